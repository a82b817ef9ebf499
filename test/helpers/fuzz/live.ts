// Runs the live fuzz station (live-worker.ts) in a network namespace made here, and removes the
// namespace (with anything still running in it: dnsmasq, Nebula) and the directories at the end,
// even when the worker fails or hangs. Skips, saying why, where it cannot run (not root, no `ip`).
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { createNetns } from '../netns.ts';
import { onCleanup } from '../cleanup.ts';
import { RUN_PREFIX } from '../run-prefix.ts';
import type { GroupResult } from './fuzzer.ts';
import type { LiveOptions } from './live-worker.ts';

const WORKER = new URL('./live-worker.ts', import.meta.url).pathname;

export interface LiveRun {
  subsystems: string[];
  reproduced: Record<string, boolean>;
  results: GroupResult[];
}

export async function liveUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the live station needs root (network namespace, tmpfs mount)';
  const ip = await exec(['ip', 'netns', 'list'], { allowFailure: true }).catch(() => undefined);
  if (ip?.exitCode !== 0) return '`ip netns` is not usable here';
  return undefined;
}

export async function runLive(options: {
  requestsPerGroup: number;
  seed: number;
  groups?: string[];
  timeoutMs: number;
  log?: (line: string) => void;
}): Promise<LiveRun> {
  const ns = await createNetns('fz');
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-fuzz-live-`));
  onCleanup(`fuzz dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const dirs = { stateDir: join(dir, 'state'), lxcDir: join(dir, 'lxc'), gpioDir: join(dir, 'gpio') };
  for (const d of Object.values(dirs)) await exec(['mkdir', '-p', '-m', '0700', d]);
  const workerOptions: LiveOptions = {
    ...dirs,
    prefix: RUN_PREFIX,
    launcherMountNs: readlinkSync('/proc/self/ns/mnt'),
    requestsPerGroup: options.requestsPerGroup,
    seed: options.seed,
    ...(options.groups ? { groups: options.groups } : {}),
  };
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, WORKER, JSON.stringify(workerOptions)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onCleanup(`fuzz worker pid ${child.pid}`, () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
    for (const line of String(d).split('\n').filter(Boolean)) options.log?.(line);
  });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const line = stdout.split('\n').find((l) => l.startsWith('FUZZ-RESULT '));
  if (code !== 0 || !line)
    throw new Error(`the live fuzz worker ${code === null ? `was stopped after ${options.timeoutMs} ms` : `exited with ${code}`}:\n${stderr.slice(-3000)}`);
  return JSON.parse(line.slice('FUZZ-RESULT '.length)) as LiveRun;
}
