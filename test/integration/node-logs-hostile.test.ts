// A node is root inside and the host's <node>/logs folder is mounted into it, so it controls what
// the agent finds there. Through the real agent process, on real LXC, inside a test network
// namespace: a busybox node whose module swaps its log file for a link to the host's admin token, a
// link to /dev/zero, a FIFO or a huge sparse file gets none of the token, no unbounded answer, no
// hang, and the agent's peak memory does not grow with what the node put there.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { lstat, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import type { Netns } from '../helpers/netns.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';
import { nodeAgentEnv, nodeNetns } from '../helpers/node-agent.ts';

const SUBNET = '198.18.53';
const MiB = 1024 * 1024;
/** what the agent's peak memory may grow by while it serves a hostile node's logs */
const MEMORY_GROWTH_LIMIT = 64 * MiB;
/** what one logs answer may weigh at most (three files, each read from its last 256 KiB) */
const ANSWER_LIMIT = 1 * MiB;

let ns: Netns;
let stateDir: string;
let lxcPath: string;
let agent: AgentHandle;
let token: string;
const node = `${RUN_PREFIX}evil`;
const port = 30000 + Math.floor(Math.random() * 20000);
const hostLog = () => join(lxcPath, node, 'logs', 'modules.log');

const api = (path: string, init: { method?: string; json?: unknown } = {}) =>
  agent.api(`/api/v1${path}`, { method: init.method ?? 'GET', auth: true, ...(init.json !== undefined ? { json: init.json } : {}) });

/** Runs a shell command in the node as its root (what any module may do). */
async function inNode(script: string): Promise<void> {
  const res = await api(`/nodes/${node}/exec`, { method: 'POST', json: { command: ['sh', '-c', script] } });
  assert.is(res.status, 200, await res.clone().text());
  const out = (await res.json()) as { exitCode: number; stderr: string };
  assert.is(out.exitCode, 0, out.stderr);
}

const statusField = async (field: string): Promise<number> => {
  const line = (await readFile(`/proc/${agent.child.pid}/status`, 'utf8')).split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line!.split(/\s+/)[1]) * 1024;
};

/**
 * GET the node's logs (with the token: even the owner must not get host files) into a file, so a
 * huge answer is measured rather than held in memory here. Returns status, size, the agent's peak
 * memory growth during the call, and the body when it is small.
 */
async function fetchLogs(): Promise<{ status: number; bytes: number; growth: number; body: string }> {
  const out = join(stateDir, `answer-${Date.now()}`);
  const rss = await statusField('VmRSS');
  // "5" resets the peak resident set size (VmHWM) to the current one
  await writeFile(`/proc/${agent.child.pid}/clear_refs`, '5');
  const curl = await exec(
    [
      'curl',
      '-sS',
      '--max-time',
      '20',
      '-o',
      out,
      '-w',
      '%{http_code}',
      '-H',
      `authorization: Bearer ${token}`,
      `http://127.0.0.1:${port}/api/v1/nodes/${node}/logs?lines=10000`,
    ],
    { netns: ns.name, allowFailure: true, timeoutMs: 30_000 },
  );
  assert.is(curl.exitCode, 0, `the logs call did not answer: ${curl.stderr}`);
  const growth = (await statusField('VmHWM')) - rss;
  const bytes = (await stat(out)).size;
  const body = bytes <= ANSWER_LIMIT ? await readFile(out, 'utf8') : '';
  await rm(out, { force: true });
  return { status: Number(curl.stdout), bytes, growth, body };
}

function assertBounded(answer: { status: number; bytes: number; growth: number }, what: string): void {
  console.log(`  ${what}: ${answer.status}, ${answer.bytes} bytes, agent peak memory ${answer.growth >= 0 ? '+' : ''}${(answer.growth / MiB).toFixed(1)} MiB`);
  assert.is(answer.status, 200, what);
  assert.ok(answer.bytes <= ANSWER_LIMIT, `${what}: the answer weighs ${answer.bytes} bytes`);
  assert.ok(answer.growth <= MEMORY_GROWTH_LIMIT, `${what}: the agent's peak memory grew by ${(answer.growth / MiB).toFixed(0)} MiB`);
}

test.before(async () => {
  ({ ns, stateDir, lxcPath } = await nodeNetns('nlh', 'hostile-logs'));
  agent = await startAgent({ netns: ns.name, stateDir, port, env: nodeAgentEnv(lxcPath, `${SUBNET}.0/24`) });
  token = agent.token;
});
test.after(async () => {
  if (process.env.STATION_TEST_VERBOSE) process.stderr.write(agent?.logs().slice(-20_000) ?? '');
  await cleanupAll();
});

test("a module that links its log to the host's admin token does not get the token served", async () => {
  const secret = join(stateDir, 'admin-token');
  const res = await api('/nodes', {
    method: 'POST',
    json: {
      name: node,
      resources: { memoryMB: 64 },
      modules: [{ name: 'thief', run: `ln -sf ${secret} /var/log/station/modules.log && while :; do sleep 3600; done` }],
    },
  });
  assert.is(res.status, 201, await res.clone().text());
  await waitFor('the module to replace its log with a link', async () => (await lstat(hostLog())).isSymbolicLink(), 30_000);
  const answer = await fetchLogs();
  assertBounded(answer, 'a link to the admin token');
  assert.not.ok(answer.body.includes(token), "the admin token was served from the node's log");
  assert.match(answer.body, /modules\.log.*not a regular file/, answer.body);
});

test('a link to /dev/zero: a small answer and no memory growth', async () => {
  await inNode('ln -sf /dev/zero /var/log/station/modules.log');
  const answer = await fetchLogs();
  assertBounded(answer, 'a link to /dev/zero');
  assert.match(answer.body, /modules\.log.*not a regular file/, answer.body);
});

test('a FIFO in place of the log does not hang the logs route', async () => {
  await inNode('rm -f /var/log/station/modules.log && mkfifo /var/log/station/modules.log');
  assert.ok((await lstat(hostLog())).isFIFO());
  // three in a row: a blocked open would hold one of the agent's few file-system threads each time
  for (let i = 0; i < 3; i++) assertBounded(await fetchLogs(), `a FIFO, call ${i + 1}`);
  assert.match((await fetchLogs()).body, /modules\.log.*not a regular file/);
});

test('a huge sparse log: only its last bytes are read, and its last line is served', async () => {
  await inNode(
    'rm -f /var/log/station/modules.log && truncate -s 256M /var/log/station/modules.log && echo last-line-of-a-huge-log >> /var/log/station/modules.log',
  );
  assert.ok((await stat(hostLog())).size > 256 * MiB);
  const answer = await fetchLogs();
  assertBounded(answer, 'a 256 MiB sparse log');
  assert.match(answer.body, /last-line-of-a-huge-log/);
});

test.run();
