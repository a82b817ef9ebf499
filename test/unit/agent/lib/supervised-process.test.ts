// A daemon the agent supervises, on real child processes: killed, it is started again (a new pid in
// its pid file); one that keeps dying is restarted after a back-off that doubles; stopped, it ends
// by SIGTERM, its pid file goes and it is not started again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SupervisedProcess, type SupervisedSettings } from '../../../../agent/lib/supervised-process.ts';
import { createLogger } from '../../../../agent/log.ts';
import { removeTempDirs, tempDir } from '../../../helpers/temp-dirs.ts';

test.after(removeTempDirs);

/** A node child running `script`, supervised; `next()` resolves with its next output line (and when it came). */
class NodeChild extends SupervisedProcess {
  private readonly lines: { line: string; at: number }[] = [];
  private wake = () => {};
  private readonly script: string;
  readonly pidFile: string;

  constructor(script: string, pidFile: string, settings: Partial<SupervisedSettings>) {
    super({ label: 'test-child', pidFile, log: createLogger('silent', false), keepLines: 10, ...settings });
    this.script = script;
    this.pidFile = pidFile;
  }

  async next(): Promise<{ line: string; at: number }> {
    while (!this.lines.length) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.lines.shift()!;
  }

  protected override command(): string[] {
    return [process.execPath, '-e', this.script];
  }

  protected override onLine(line: string): void {
    this.lines.push({ line, at: Date.now() });
    this.wake();
  }
}

function supervised(script: string, settings: Partial<SupervisedSettings> = {}) {
  const p = new NodeChild(script, join(tempDir('station-supervised-'), 'child.pid'), settings);
  return { process: p, pidFile: p.pidFile, next: () => p.next() };
}

// its SIGTERM handler is in place before it says it is ready (a loaded machine may stop it in between)
const DAEMON = "process.on('SIGTERM', () => { console.log('bye'); process.exit(0) }); console.log('ready ' + process.pid); setInterval(() => {}, 1000)";

test('a child killed is started again: a new pid, in the pid file, one restart counted, why it stopped kept', async () => {
  const { process: p, pidFile, next } = supervised(DAEMON);
  try {
    p.start();
    const first = Number((await next()).line.split(' ')[1]);
    assert.is(p.pid, first);
    assert.is(readFileSync(pidFile, 'utf8'), `${first}\n`);
    process.kill(first, 'SIGKILL');
    const second = Number((await next()).line.split(' ')[1]);
    assert.is.not(second, first);
    assert.is(p.pid, second);
    assert.is(readFileSync(pidFile, 'utf8'), `${second}\n`);
    assert.is(p.restarts, 1);
    assert.is(p.lastExit, 'killed by SIGKILL');
  } finally {
    await p.stop();
  }
});

test('a child that keeps dying waits 0.5 s, then 1 s, before its next starts; lastExit can carry its last line', async () => {
  const { process: p, next } = supervised("console.log('up'); process.exit(3)", { exitWithLastLine: true, keepLines: 2 });
  try {
    p.start();
    const starts = [(await next()).at, (await next()).at];
    assert.is(p.lastExit, 'exited with 3: up', 'the first run had ended before the second started');
    starts.push((await next()).at);
    assert.ok(starts[1]! - starts[0]! >= 500, `first restart after ${starts[1]! - starts[0]!} ms`);
    assert.ok(starts[2]! - starts[1]! >= 1000, `second restart after ${starts[2]! - starts[1]!} ms`);
    assert.equal(p.tail(), ['up', 'up'], 'only keepLines lines are kept');
  } finally {
    await p.stop();
  }
});

test('stop ends the child with SIGTERM, removes its pid file, and it is not started again', async () => {
  const { process: p, pidFile, next } = supervised(DAEMON);
  p.start();
  await next();
  await p.stop();
  assert.is((await next()).line, 'bye', 'it was asked to stop (SIGTERM)');
  assert.is(p.lastExit, 'exited with 0');
  assert.not.ok(p.running);
  assert.not.ok(p.wanted);
  assert.is(p.pid, undefined, 'no new child');
  assert.not.ok(existsSync(pidFile));
});

test.run();
