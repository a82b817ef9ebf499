// Binary streams through the one command runner (btrfs send/receive use them): bytes pass through
// unchanged, and a stream from a program that failed never ends cleanly, so a receiver cannot take
// half a snapshot for a whole one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { exec } from '../../../agent/exec.ts';
import { ExecError } from '../../../agent/errors.ts';

/** A Writable that keeps what it got and how it ended. */
function collector(): { sink: Writable; bytes: () => Buffer; ended: () => 'finished' | 'destroyed' | 'open'; error: () => Error | null } {
  const chunks: Buffer[] = [];
  let state: 'finished' | 'destroyed' | 'open' = 'open';
  let failure: Error | null = null;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  sink.on('finish', () => {
    state = 'finished';
  });
  sink.on('error', (error) => {
    state = 'destroyed';
    failure = error;
  });
  return { sink, bytes: () => Buffer.concat(chunks), ended: () => state, error: () => failure };
}

test('stdinStream and stdoutStream carry binary data through a program unchanged', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const out = collector();
  const result = await exec(['cat'], { stdinStream: Readable.from([data.subarray(0, 1000), data.subarray(1000)]), stdoutStream: out.sink });
  assert.is(result.exitCode, 0);
  assert.is(result.stdout, '', 'streamed output is not buffered into the result');
  assert.ok(out.bytes().equals(data), 'every byte arrived in order');
  assert.is(out.ended(), 'finished');
});

test('a program that fails mid-stream destroys the output stream instead of ending it', async () => {
  const out = collector();
  const error = await exec(['sh', '-c', 'printf partial; echo "disk on fire" >&2; exit 3'], { stdoutStream: out.sink }).catch((e: unknown) => e);
  assert.instance(error, ExecError);
  assert.match((error as ExecError).message, /exited with 3: disk on fire/);
  assert.is(out.bytes().toString(), 'partial');
  assert.is(out.ended(), 'destroyed', 'the reader sees an error, not a clean end');
});

test('with allowFailure the caller gets the exit code and the reader still a broken stream', async () => {
  const out = collector();
  const result = await exec(['sh', '-c', 'printf half; exit 2'], { stdoutStream: out.sink, allowFailure: true });
  assert.is(result.exitCode, 2);
  assert.is(out.ended(), 'destroyed');
});

test('an input stream that fails kills the program and rejects, naming the input', async () => {
  const input = new PassThrough();
  const out = collector();
  const running = exec(['cat'], { stdinStream: input, stdoutStream: out.sink });
  input.write('first part');
  setImmediate(() => input.destroy(new Error('peer hung up')));
  const error = await running.catch((e: unknown) => e);
  assert.instance(error, ExecError);
  assert.match((error as ExecError).message, /input stream failed: peer hung up/);
  assert.is(out.ended(), 'destroyed');
});

test('a reader that goes away stops the program (it does not wait for the timeout)', async () => {
  const sink = new Writable({
    write(_chunk, _enc, done) {
      done(new Error('reader gone'));
    },
  });
  sink.on('error', () => {});
  const started = Date.now();
  const error = await exec(['sh', '-c', 'while :; do printf xxxxxxxxxxxxxxxx; done'], { stdoutStream: sink, timeoutMs: 120_000 }).catch((e: unknown) => e);
  assert.instance(error, ExecError);
  assert.ok(Date.now() - started < 60_000, 'ended by the reader error, not by the 120 s timeout');
});

test('a reader that closes the stream early (no error) stops the program too', async () => {
  const sink = new PassThrough();
  sink.once('data', () => sink.destroy());
  const error = await exec(['sh', '-c', 'while :; do printf xxxxxxxxxxxxxxxx; done'], { stdoutStream: sink, timeoutMs: 120_000 }).catch((e: unknown) => e);
  assert.instance(error, ExecError, 'killed, so not a success');
});

test('a program that exits without reading all its input: the input stream is destroyed, so its sender learns', async () => {
  const input = new PassThrough();
  let closed = false;
  input.on('close', () => {
    closed = true;
  });
  input.write(Buffer.alloc(1024 * 1024));
  const result = await exec(['sh', '-c', 'head -c 10 >/dev/null; exit 1'], { stdinStream: input, allowFailure: true });
  assert.is(result.exitCode, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(closed, 'the input was closed');
});

test('a program that cannot start destroys the output stream too', async () => {
  const out = collector();
  const error = await exec(['/nonexistent/btrfs', 'send'], { stdoutStream: out.sink }).catch((e: unknown) => e);
  assert.instance(error, ExecError);
  assert.match((error as ExecError).message, /could not start .*ENOENT/);
  assert.is(out.ended(), 'destroyed');
});

test.run();
