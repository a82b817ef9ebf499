// A before hook that throws is reported with its reason (plain uvu swallows it: "0 / 1", nothing else).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';

const helper = new URL('../helpers/uvu.ts', import.meta.url).pathname;

async function runFile(source: string) {
  const dir = await mkdtemp(join(tmpdir(), 'uvu-before-'));
  try {
    await writeFile(join(dir, 'probe.test.ts'), source);
    return await exec([process.execPath, join(dir, 'probe.test.ts')], { allowFailure: true, timeoutMs: 30_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const probe = (from: string) => `
import { suite } from '${from}';
const t = suite('probe');
t.before(async () => { throw new Error('the engine is missing: probe-reason-42'); });
t('never runs', () => {});
t.run();
`;

test('through the helper: the reason is printed and the exit status is not 0', async () => {
  const r = await runFile(probe(helper));
  assert.match(r.stderr, /before hook of "probe" failed: Error: the engine is missing: probe-reason-42/);
  assert.is.not(r.exitCode, 0);
});

test('plain uvu (why the helper exists): no reason anywhere', async () => {
  const r = await runFile(probe('uvu'));
  assert.not.match(r.stdout + r.stderr, /probe-reason-42/);
});

test.run();
