// The station's resolver process itself (real dnsmasq in a test namespace): what nodes ask must
// always be the latest names the agent wrote, even when several changes arrive at once (peers are
// pulled in parallel); a resolver that dies is brought back; a host resolver on loopback is left be.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, type Runner } from '../../agent/exec.ts';
import { DnsmasqResolver } from '../../agent/network/alias/dnsmasq.ts';
import { startStationResolver } from '../../agent/network/alias/station-resolver.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';

const t = suite<{ ns: Netns; resolver: DnsmasqResolver; dir: string }>('station resolver (dnsmasq)');
const DOMAIN = 'mesh.internal';

const hosts = (n: number): string => `198.19.7.${n} app.s1.${DOMAIN}\n198.19.8.${n} www.alice.${DOMAIN}\n`;

async function lookup(ns: Netns, name: string): Promise<string | null> {
  const r = await exec(['busybox', 'nslookup', name, '127.0.0.1'], { netns: ns.name, allowFailure: true, timeoutMs: 5000 });
  return /Name:\s+\S+\s+Address:\s+(\d+\.\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] ?? null;
}

t.before(async (ctx) => {
  ctx.ns = await createNetns('dns');
  ctx.dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-dns-`));
  onCleanup(`state ${ctx.dir}`, () => rm(ctx.dir, { recursive: true, force: true }));
  ctx.resolver = new DnsmasqResolver({ netns: ctx.ns.name, dir: ctx.dir, listen: ['127.0.0.1'], domain: DOMAIN, upstreams: [] });
  onCleanup('resolver', () => ctx.resolver.stop());
  await ctx.resolver.start(hosts(1));
});
t.after(() => cleanupAll());

t('answers the names it was started with', async ({ ns }) => {
  assert.is(await lookup(ns, `app.s1.${DOMAIN}`), '198.19.7.1');
  assert.is(await lookup(ns, `nothing.s1.${DOMAIN}`), null, 'a name of our domain that is not ours gets no address');
});

t('many changes at once: the resolver ends up answering the last one, whole', async ({ ns, resolver }) => {
  for (let round = 0; round < 5; round++) {
    const writes = Array.from({ length: 20 }, (_, i) => resolver.update(hosts(10 + i)));
    await Promise.all(writes);
    assert.is(await readFile(resolver.hostsFile, 'utf8'), hosts(29), `round ${round}: the file holds the last change`);
    await waitFor('the last change answered', async () => (await lookup(ns, `www.alice.${DOMAIN}`)) === '198.19.8.29', 3000);
    assert.is(await lookup(ns, `app.s1.${DOMAIN}`), '198.19.7.29');
    await resolver.update(hosts(2));
  }
});

t('a resolver that dies is started again, with the current names', async ({ ns, resolver }) => {
  await resolver.update(hosts(3));
  const pid = resolver.processId!;
  process.kill(pid, 'SIGKILL');
  const back = await waitFor('dnsmasq back', async () => (resolver.processId && resolver.processId !== pid ? resolver.processId : null), 10_000);
  assert.ok(back > 0);
  await waitFor('answers again', async () => (await lookup(ns, `app.s1.${DOMAIN}`)) === '198.19.7.3', 5000);
  assert.match(resolver.lastExit ?? '', /SIGKILL/, 'why it stopped is kept for the status');
});

t("a resolver that cannot start says why and is not retried behind the caller's back", async ({ ns, dir }) => {
  // the suite's resolver holds 127.0.0.1:53 in this namespace
  const second = new DnsmasqResolver({ netns: ns.name, dir: join(dir, 'second'), listen: ['127.0.0.1'], domain: DOMAIN, upstreams: [] });
  onCleanup('second resolver', () => second.stop());
  try {
    await second.start(hosts(4));
    assert.unreachable('should have failed');
  } catch (error) {
    assert.match((error as Error).message, /Address already in use/);
  }
  await new Promise((r) => setTimeout(r, 2500)); // past the first restart delay
  assert.is(second.processId, null);
  assert.is(second.restarts, 0);
});

t('loopback held by another resolver: the station resolver serves the gateway alone', async ({ ns }) => {
  // the test's resolver holds 127.0.0.1:53 in this namespace, as a host's own resolver often does
  await exec(['ip', '-n', ns.name, 'link', 'add', 'gw0', 'type', 'bridge']);
  await exec(['ip', '-n', ns.name, 'addr', 'add', '198.19.9.1/24', 'dev', 'gw0']);
  await exec(['ip', '-n', ns.name, 'link', 'set', 'gw0', 'up']);
  const stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-dns2-`));
  onCleanup(`state ${stateDir}`, () => rm(stateDir, { recursive: true, force: true }));
  const run: Runner = (argv, options) => exec(argv, { ...options, netns: ns.name });
  const started = await startStationResolver({
    run,
    netns: ns.name,
    stateDir,
    gateway: '198.19.9.1',
    domain: DOMAIN,
    initialHosts: `198.19.9.5 gw.s1.${DOMAIN}\n`,
  });
  onCleanup('second resolver', () => started.resolver?.stop());
  assert.ok(started.resolver, started.error);
  const r = await exec(['busybox', 'nslookup', `gw.s1.${DOMAIN}`, '198.19.9.1'], { netns: ns.name, allowFailure: true, timeoutMs: 5000 });
  assert.match(r.stdout, /Address:\s+198\.19\.9\.5/);
  assert.is(await lookup(ns, `gw.s1.${DOMAIN}`), null, 'loopback is still the other resolver');
});

t.run();
