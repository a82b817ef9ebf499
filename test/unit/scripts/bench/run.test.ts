// A benchmark's run: main, then its tear-down whether main succeeded, failed or was interrupted
// (Ctrl-C), a failure said in one line with exit code 1, an interruption exit code 130. Each case
// runs runBench in a child process, as a benchmark script does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const RUN = new URL('../../../../scripts/bench/lib/run.ts', import.meta.url).href;

/** A child that runs runBench('bench x', main, tearDown) with this main; tear-down prints "torn down". */
function bench(main: string) {
  const script = `import { runBench } from ${JSON.stringify(RUN)};
await runBench('bench x', async () => { ${main} }, async () => { process.stdout.write('torn down'); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, done };
}

test('main succeeds: torn down, exit 0, nothing on stderr', async () => {
  const { code, stdout, stderr } = await bench("process.stdout.write('measured; ');").done;
  assert.is(code, 0, stderr);
  assert.is(stdout, 'measured; torn down');
  assert.is(stderr, '');
});

test('main fails: torn down, exit 1, one line that names the benchmark and says why', async () => {
  const { code, stdout, stderr } = await bench("throw new Error('no pool here');").done;
  assert.is(code, 1);
  assert.is(stdout, 'torn down');
  assert.match(stderr, /^bench x failed: Error: no pool here\n/);
});

test('Ctrl-C while main runs: torn down, exit 130', async () => {
  const { child, done } = bench("process.stdout.write('running; '); await new Promise(() => setInterval(() => {}, 1000));");
  await once(child.stdout, 'data'); // main is running
  child.kill('SIGINT');
  const { code, stdout } = await done;
  assert.is(code, 130);
  assert.is(stdout, 'running; torn down');
});

test.run();
