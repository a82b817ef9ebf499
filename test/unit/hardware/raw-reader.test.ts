// The hardware reader runs in its own process; the agent takes its JSON answer. Checked with the
// real reader on this machine and with the answers a broken reader could give.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { exec } from '../../../agent/exec.ts';
import { parseRawHardware, readRawInChild } from '../../../hardware/raw-reader.ts';
import { buildHardwareReport } from '../../../hardware/report.ts';
import { availableParallelism, totalmem } from 'node:os';

const run = (argv: readonly string[]) => exec(argv, { allowFailure: true, timeoutMs: 30_000 });

test('the real reader, as a child process, describes this machine', async () => {
  const report = buildHardwareReport(await readRawInChild(run), []);
  assert.is(report.cpu.cores, availableParallelism());
  assert.ok(Math.abs(report.memory.totalBytes - totalmem()) < 64 * 1024 ** 2, `${report.memory.totalBytes} vs ${totalmem()}`);
  assert.ok(report.filesystems.some((f) => f.mount === '/'));
});

test('a captured answer parses back to what was captured', () => {
  const text = readFileSync(new URL('../../fixtures/host/systeminformation-vm.json', import.meta.url), 'utf8');
  assert.equal(parseRawHardware(text), { ...JSON.parse(text), missing: [] });
});

test('a partial answer (a slow box) gives a report marked partial, with what arrived', () => {
  const full = JSON.parse(readFileSync(new URL('../../fixtures/host/systeminformation-vm.json', import.meta.url), 'utf8'));
  delete full.cpuTemperature;
  delete full.fsSize;
  full.missing = ['cpuTemperature: no answer within 30 s'];
  const report = buildHardwareReport(parseRawHardware(JSON.stringify(full)), []);
  assert.ok(report.partial);
  assert.equal(report.partialReasons, ['cpuTemperature: no answer within 30 s', "fsSize: not in the reader's answer"]);
  assert.ok(report.cpu.cores >= 1, 'the CPU reading that did arrive is in the report');
  assert.equal(report.filesystems, []);
  assert.is(report.temperatures.mainC, null);
});

test("what is not a reader's answer is a clear error", () => {
  assert.throws(() => parseRawHardware(''), /no JSON: \(nothing\)/);
  assert.throws(() => parseRawHardware('Error: cannot find module'), /no JSON: Error: cannot find module/);
  assert.throws(() => parseRawHardware('{"system":{}}'), /without any reading/);
  assert.throws(() => parseRawHardware('null'), /not an object/);
  assert.throws(() => parseRawHardware('[1]'), /not an object/);
});

test('a reader that fails says how, in one line', async () => {
  const failing = async () => ({ exitCode: 1, stdout: '', stderr: 'node:internal...\nError: EACCES: permission denied\n' });
  try {
    await readRawInChild(failing);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.is((error as Error).message, 'hardware reader exited with 1: Error: EACCES: permission denied');
  }
});

test.run();
