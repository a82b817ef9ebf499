// Benchmark: GET /api/v1/status throughput and p99 latency (wrk) against a bare Fastify hello-world
// started the same way in the same run; agent cold start to /ready; idle memory against bare Node.
// The agent is started as every launcher starts it, `node dist/agent/main.js`: it applies its own
// Node flags and environment (agent/process-settings.ts), so this measures what stations run.
// Idle memory is the agent's RSS 15 s after it answers /ready, every subsystem on (default config), and
// again 16 s after the throughput load ended: memory that only looks small before the first load
// does not count as small.
// Everything runs inside a network namespace made here and removed at the end.
//   node scripts/bench/status.ts            (after ./scripts/dev build; ./scripts/dev bench status does both)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { exec } from '../../agent/exec.ts';
import { median, summarise } from './lib/stats.ts';
import { parseWrk, parseSmapsRollup, type MemoryBreakdown } from './lib/parse.ts';
import { NODE_FLAGS, NODE_ENV } from '../../agent/process-settings.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const AGENT = join(ROOT, 'dist/agent/main.js');
const NS = `stb${randomBytes(2).toString('hex')}`;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;
const IDLE_MS = 15_000;
const IDLE_AFTER_LOAD_MS = 16_000;

const children: ChildProcess[] = [];
const dirs: string[] = [];

function startInNs(argv: string[], env: Record<string, string>): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', NS, ...argv], { env: { ...process.env, ...env }, stdio: 'ignore' });
  children.push(child);
  return child;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', url], { netns: NS, allowFailure: true })).stdout === '200') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered`);
}

/** 1-minute load averages seen during the run: the machine is shared (2 cores), figures are read against them */
const loadAverages: number[] = [];
const noteLoad = () => loadAverages.push(Number(loadavg()[0]!.toFixed(2)));

async function load(url: string): Promise<{ rps: number; p99: number }> {
  noteLoad();
  const out = await exec(['wrk', '-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', url], {
    netns: NS,
    timeoutMs: (SECONDS + 30) * 1000,
  });
  const report = parseWrk(out.stdout);
  if (report.errors) throw new Error(`${url}: ${report.errors} errors`);
  return { rps: report.requestsPerSecond, p99: report.p99Ms };
}

async function memory(pid: number): Promise<MemoryBreakdown> {
  return parseSmapsRollup(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
}

const mb = (kb: number) => Number((kb / 1024).toFixed(1));

async function main(): Promise<void> {
  await exec(['ip', 'netns', 'add', NS]);
  await exec(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  const stateDir = await mkdtemp(join(tmpdir(), `${NS}-`));
  dirs.push(stateDir);
  const agentEnv = {
    STATION_STATE_DIR: stateDir,
    STATION_HTTP_HOST: '127.0.0.1',
    STATION_HTTP_PORT: '8088',
    STATION_LOG_LEVEL: 'warn',
    STATION_NODE_SUBNET: '198.18.90.0/24',
  };
  const agent = startInNs([process.execPath, AGENT], agentEnv);
  startInNs([process.execPath, join(ROOT, 'scripts/bench/lib/hello-fastify.mjs')], { PORT: '8099' });
  // What Node itself costs on this machine: an empty process kept alive, same binary, flags and environment.
  const bareNode = startInNs([process.execPath, ...NODE_FLAGS, '-e', 'setInterval(() => {}, 1 << 30)'], { ...NODE_ENV });
  await waitFor('http://127.0.0.1:8088/api/v1/ready');
  await waitFor('http://127.0.0.1:8099/hello');

  // Idle RSS: after start-up work (hardware detection) settles, as a station sits most of its life.
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idle = await memory(agent.pid!);
  const bare = await memory(bareNode.pid!);

  const agentRuns: { rps: number; p99: number }[] = [];
  const baseRuns: { rps: number; p99: number }[] = [];
  await load('http://127.0.0.1:8088/api/v1/status'); // warm-up (JIT) for both
  await load('http://127.0.0.1:8099/hello');
  for (let i = 0; i < ROUNDS; i++) {
    agentRuns.push(await load('http://127.0.0.1:8088/api/v1/status'));
    baseRuns.push(await load('http://127.0.0.1:8099/hello'));
  }
  const loaded = await memory(agent.pid!);
  noteLoad();
  // Idle again after the load: what a station holds after each busy spell, for the rest of its day.
  await new Promise((r) => setTimeout(r, IDLE_AFTER_LOAD_MS));
  const idleAfter = await memory(agent.pid!);
  for (const c of children.splice(0)) c.kill('SIGTERM');

  const cold: { readyMs: number; statusWithHardwareMs: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = await mkdtemp(join(tmpdir(), `${NS}-cold-`));
    dirs.push(dir);
    const out = await exec([process.execPath, join(ROOT, 'scripts/bench/lib/cold-start.mjs'), AGENT, String(8200 + i), dir], {
      netns: NS,
      timeoutMs: 60_000,
      env: { STATION_NODE_SUBNET: '198.18.90.0/24' },
    });
    cold.push(JSON.parse(out.stdout));
  }

  const agentRps = median(agentRuns.map((r) => r.rps));
  const baseRps = median(baseRuns.map((r) => r.rps));
  const result = {
    benchmark: 'status',
    connections: CONNECTIONS,
    seconds: SECONDS,
    rounds: ROUNDS,
    status: { rps: summarise(agentRuns.map((r) => r.rps)), p99Ms: summarise(agentRuns.map((r) => r.p99)) },
    bareFastify: { rps: summarise(baseRuns.map((r) => r.rps)), p99Ms: summarise(baseRuns.map((r) => r.p99)) },
    throughputRatio: Number((agentRps / baseRps).toFixed(3)),
    coldStartReadyMs: summarise(cold.map((c) => c.readyMs)),
    coldStartStatusWithHardwareMs: summarise(cold.map((c) => c.statusWithHardwareMs)),
    idleRssMB: mb(idle.rssKb),
    // RSS = anonymous memory the process made (V8 heap, malloc, stacks) + file pages it touched (Node's
    // executable and libraries: clean, reclaimable, shared with any other Node process).
    idleMemoryMB: {
      rss: mb(idle.rssKb),
      anon: mb(idle.anonKb),
      file: mb(idle.rssKb - idle.anonKb),
      private: mb(idle.privateKb),
      pss: mb(idle.pssKb),
    },
    idleAfterLoadMemoryMB: { rss: mb(idleAfter.rssKb), anon: mb(idleAfter.anonKb), file: mb(idleAfter.rssKb - idleAfter.anonKb) },
    bareNodeMemoryMB: { rss: mb(bare.rssKb), anon: mb(bare.anonKb), file: mb(bare.rssKb - bare.anonKb) },
    rssAfterLoadMB: mb(loaded.rssKb),
    loadAverage1m: summarise(loadAverages),
    // Throughput and memory are reported, not goals (clarity first, issue 12); start-up time is one.
    goals: { statusWithHardwareMs: '<= 2000' },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  await exec(['ip', 'netns', 'pids', NS], { allowFailure: true }).then(async (out) => {
    for (const pid of out.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  await exec(['ip', 'netns', 'del', NS], { allowFailure: true });
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}

main().then(cleanup, async (error) => {
  await cleanup();
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
