// A box so slow that the CPU, memory and OS readings miss their budget still reports its cores,
// memory and kernel (from the kernel itself), marked partial with why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { availableParallelism, release, totalmem } from 'node:os';
import { withKernelFallbacks } from '../../../hardware/si-reader.ts';
import { buildHardwareReport, type RawHardware } from '../../../hardware/report.ts';

test('missing cpu, mem and osInfo readings are filled from the kernel and named as partial', () => {
  const raw = {
    system: { manufacturer: 'QEMU', model: 'Standard PC' },
    cpu: {},
    mem: {},
    osInfo: {},
    cpuTemperature: {},
    blockDevices: [],
    fsSize: [],
    wifiInterfaces: [],
    networkInterfaces: [],
    missing: ['cpu: no answer within 30 s', 'mem: no answer within 30 s', 'osInfo: no answer within 30 s'],
  } as unknown as RawHardware;
  const report = buildHardwareReport(withKernelFallbacks(raw), []);
  assert.is(report.cpu.cores, availableParallelism());
  assert.ok(Math.abs(report.memory.totalBytes - totalmem()) < 1024 ** 2);
  assert.is(report.os.kernel, release());
  assert.ok(report.partial);
  assert.equal(report.partialReasons, [
    'cpu: no answer within 30 s (cores and model from the kernel)',
    'mem: no answer within 30 s (total and free memory from the kernel)',
    'osInfo: no answer within 30 s (kernel, architecture and host name from the kernel)',
  ]);
});

test('a complete reading is left as it is', () => {
  const raw = {
    system: {},
    cpu: { cores: 64 },
    mem: { total: 1 },
    osInfo: { kernel: 'k' },
    cpuTemperature: {},
    blockDevices: [],
    fsSize: [],
    wifiInterfaces: [],
    networkInterfaces: [],
    missing: [],
  } as unknown as RawHardware;
  assert.equal(withKernelFallbacks(raw), raw);
});

test.run();
