// The processes on this machine as /proc lists them: a process started here is found with its pid
// and its argv, and once it has ended it is not. Ending a daemon a killed agent left (only ours, by
// its pid file and argv) and stopping our own (SIGTERM, then SIGKILL): on real child processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endStale, processCommandLines, terminate } from '../../../../agent/lib/processes.ts';
import { removeTempDirs, tempDir } from '../../../helpers/temp-dirs.ts';

const find = (pid: number) => [...processCommandLines()].find((p) => p.pid === pid);

test('a running child is listed with its pid and its argv joined by NUL bytes; once ended it is not', async () => {
  // it says "ready" once it runs its own program (before that /proc shows the parent's copy)
  const script = "process.stdout.write('ready'); setInterval(() => {}, 1000)";
  const child = spawn(process.execPath, ['-e', script, 'processes-test-marker'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    await once(child.stdout, 'data');
    assert.is(find(child.pid!)?.cmdline, `${process.execPath}\0-e\0${script}\0processes-test-marker\0`);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  assert.is(find(child.pid!), undefined);
});

test('every entry is a process: a whole-number pid and a command line', () => {
  const all = [...processCommandLines()];
  assert.ok(
    all.some((p) => p.pid === process.pid),
    'this test process is listed',
  );
  for (const p of all) assert.ok(Number.isSafeInteger(p.pid) && p.pid > 0, String(p.pid));
});

/** A node child running until killed, echoing what it reads; `onTerm` is its SIGTERM handler (default: none, so it
 * ends). Resolves once it runs its own program. */
async function daemon(marker: string, onTerm = '') {
  const script = `${onTerm}; process.stdin.on('data', (d) => process.stdout.write(d)); process.stdout.write('ready')`;
  const child = spawn(process.execPath, ['-e', script, marker], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await once(child.stdout, 'data');
  return { child, exited };
}

/** Whether the child still answers: it echoes a line back, or it has exited. */
async function answers(child: ChildProcess, exited: Promise<unknown>): Promise<boolean> {
  child.stdin!.write('ping');
  return Promise.race([once(child.stdout!, 'data').then(() => true), exited.then(() => false)]);
}

test.after(removeTempDirs);

test('endStale ends the process its pid file names when its argv is ours, and removes the pid file', async () => {
  const dir = tempDir('station-processes-');
  const marker = join(dir, 'config.yml');
  const { child, exited } = await daemon(marker);
  const pidFile = join(dir, 'x.pid');
  writeFileSync(pidFile, `${child.pid}\n`);
  endStale(pidFile, 'node', marker);
  const [, signal] = await exited;
  assert.is(signal, 'SIGKILL');
  assert.not.ok(existsSync(pidFile));
});

test('endStale leaves a process alone whose argv is not ours (a reused pid), and still removes the pid file', async () => {
  const dir = tempDir('station-processes-');
  const { child, exited } = await daemon(join(dir, 'theirs.yml'));
  try {
    const pidFile = join(dir, 'x.pid');
    writeFileSync(pidFile, `${child.pid}\n`);
    endStale(pidFile, 'node', join(dir, 'ours.yml'));
    endStale(join(dir, 'missing.pid'), 'node', join(dir, 'ours.yml')); // no pid file: nothing to do
    assert.ok(await answers(child, exited), 'still running');
    assert.not.ok(existsSync(pidFile));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
});

test('terminate: SIGTERM ends a daemon that heeds it; one that ignores it gets SIGKILL after 3 s', async () => {
  const polite = await daemon('polite');
  await terminate(polite.child);
  assert.is((await polite.exited)[1], 'SIGTERM');
  const stubborn = await daemon('stubborn', "process.on('SIGTERM', () => {})");
  await terminate(stubborn.child);
  assert.is((await stubborn.exited)[1], 'SIGKILL');
  await terminate(stubborn.child); // already ended: returns at once
});

test.run();
