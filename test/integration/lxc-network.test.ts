// The host side of node networking inside a test namespace: prepare() is idempotent, sets
// forwarding in that namespace only, keeps its NAT in its own nftables table (a foreign table is
// left alone), and nodes reach a simulated internet namespace that has no route back to them:
// only masquerading makes that work.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { prepareHostNetwork } from '../../agent/nodes/host-network/prepare.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { createNetns, link } from '../helpers/netns.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { lxcHarness, waitFor, type LxcHarness } from '../fixtures/lxc/harness.ts';

let h: LxcHarness;
const hostForward = () => readFile('/proc/sys/net/ipv4/ip_forward', 'utf8');
let forwardBefore: string;

test.before(async () => {
  forwardBefore = await hostForward();
  h = await lxcHarness('lxn', 47);
});
test.after(async () => {
  await cleanupAll();
});

test('prepare is idempotent and stays in its namespace and its own table', async () => {
  const run = netnsRunner(h.ns.name);
  await h.ns.run([
    'nft',
    'add table inet foreign; add chain inet foreign c { type filter hook input priority 0; policy accept; }; add rule inet foreign c counter',
  ]);
  const foreignBefore = await h.ns.run(['nft', 'list', 'table', 'inet', 'foreign']);
  const setup = { bridge: h.bridge, gatewayCidr: `${h.subnet}.1/24`, subnet: `${h.subnet}.0/24` };
  const again = await prepareHostNetwork(run, setup);
  assert.equal(again.changed, [], 'a second prepare changes nothing');
  const ruleset = await h.ns.run(['nft', 'list', 'table', 'ip', 'station_nat']);
  assert.match(ruleset, new RegExp(`ip saddr ${h.subnet.replace(/\./g, '\\.')}\\.0/24 oifname != "${h.bridge}" masquerade`));
  assert.equal(ruleset.match(/masquerade/g)?.length, 1, 'the rule is replaced, not added twice');
  assert.equal(await h.ns.run(['nft', 'list', 'table', 'inet', 'foreign']), foreignBefore);
  assert.equal((await h.ns.run(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(), '1');
  assert.equal(await hostForward(), forwardBefore, "the machine's own forwarding setting is untouched");
  assert.match(await h.ns.run(['ip', '-4', 'addr', 'show', 'dev', h.bridge]), new RegExp(`${h.subnet}\\.1/24`));
});

test('a bridge name taken by a non-bridge interface is a clear error', async () => {
  const run = netnsRunner(h.ns.name);
  await h.ns.run(['ip', 'link', 'add', `${RUN_PREFIX}dum`, 'type', 'veth', 'peer', 'name', `${RUN_PREFIX}dup`]);
  try {
    await prepareHostNetwork(run, { bridge: `${RUN_PREFIX}dum`, gatewayCidr: '198.18.48.1/24', subnet: '198.18.48.0/24' });
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /not a bridge/);
  }
});

test('a node reaches a network with no route back to it, through egress NAT', async () => {
  const inet = await createNetns('inet');
  await link(h.ns, '198.18.249.1/30', inet, '198.18.249.2/30', 'up');
  const www = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-www-`));
  onCleanup(`dir ${www}`, () => exec(['rm', '-rf', www]));
  await writeFile(join(www, 'index.html'), 'outside\n');
  const server = spawn('ip', ['netns', 'exec', inet.name, 'busybox', 'httpd', '-f', '-p', '8080', '-h', www], { stdio: 'ignore' });
  onCleanup(`httpd ${server.pid}`, () => server.kill('SIGKILL'));
  assert.not.match(await inet.run(['ip', 'route']), /198\.18\.47\./, 'the outside has no route to the nodes');
  const build = h.build('nat', 10);
  await h.driver.create(build);
  await h.driver.start(build.name);
  const got = await waitFor(
    'a reply from outside',
    async () => {
      const r = await h.driver.exec(build.name, ['sh', '-c', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 198.18.249.2 8080']);
      return r.stdout.includes('outside') ? r.stdout : null;
    },
    10_000,
    200,
  );
  assert.match(got, /200 OK/);
  await h.driver.destroy(build.name);
});

test.run();
