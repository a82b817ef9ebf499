// `station node create` on a station whose template cache is empty: the template is built on the
// way, and the CLI shows the build's progress (node.progress events) and the node's state changes.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let ns: Netns;
let agent: AgentHandle;
let cache: string;

test.before(async () => {
  ns = await createNetns('ncp');
  cache = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-templates-`));
  onCleanup(`template cache ${cache}`, () => rm(cache, { recursive: true, force: true }));
  agent = await startAgent({
    netns: ns.name,
    env: {
      STATION_BRIDGE: runName('br'),
      STATION_NODE_SUBNET: '198.18.47.0/24',
      STATION_TEMPLATE_CACHE: cache,
      STATION_DISABLE: 'mesh,wifi,discovery,indicator',
    },
  });
  const lxcPath = join(agent.stateDir, 'lxc');
  onCleanup(`containers in ${lxcPath}`, async () => {
    for (const name of await readdir(lxcPath).catch(() => [] as string[]))
      await netnsRunner(ns.name)(['lxc-destroy', '-f', '-P', lxcPath, '-n', name], { allowFailure: true });
  });
});
test.after(async () => {
  await cleanupAll();
});

test('node create builds the missing template and shows its progress, then the node runs', async () => {
  const name = `${RUN_PREFIX}first`;
  const out = await exec([process.execPath, join(ROOT, 'scripts/cli/main.ts'), 'node', 'create', name, '--run', 'exec sleep 1000', '--memory', '32'], {
    netns: ns.name,
    allowFailure: true,
    timeoutMs: 120_000,
    env: { STATION_URL: agent.baseUrl, STATION_STATE_DIR: agent.stateDir },
  });
  assert.is(out.exitCode, 0, out.stderr);
  assert.match(out.stderr, /busybox: template busybox: building into/);
  assert.match(out.stderr, new RegExp(`${name}: running`));
  assert.match(out.stdout, new RegExp(`^created ${name}: running, 198\\.18\\.47\\.\\d+ \\(${name}\\.test-station\\.mesh\\.internal\\)$`, 'm'));
  const cached = await readdir(join(cache, 'busybox'));
  assert.ok(cached.includes('rootfs') && cached.includes('template.json'), 'the template is cached for the next node');
  const rm2 = await exec([process.execPath, join(ROOT, 'scripts/cli/main.ts'), 'node', 'rm', name, '--volumes'], {
    netns: ns.name,
    allowFailure: true,
    timeoutMs: 60_000,
    env: { STATION_URL: agent.baseUrl, STATION_STATE_DIR: agent.stateDir },
  });
  assert.is(rm2.exitCode, 0, rm2.stderr);
  assert.is(rm2.stdout.trim(), `removed ${name} and its volumes`);
});

test.run();
