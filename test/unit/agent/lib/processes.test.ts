// The processes on this machine as /proc lists them: a process started here is found with its pid
// and its argv, and once it has ended it is not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { processCommandLines } from '../../../../agent/lib/processes.ts';

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

test.run();
