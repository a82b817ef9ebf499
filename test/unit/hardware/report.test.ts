import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { buildHardwareReport, type RawHardware } from '../../../hardware/report.ts';

// systeminformation's answers captured on a build machine (a KVM VM that looks like a container).
const raw = JSON.parse(readFileSync(new URL('../../fixtures/host/systeminformation-vm.json', import.meta.url), 'utf8')) as RawHardware;

test('the report from captured systeminformation output', () => {
  const r = buildHardwareReport(raw, [], new Date('2026-01-01T00:00:00Z'));
  assert.is(r.detectedAt, '2026-01-01T00:00:00.000Z');
  assert.is(r.board.model, 'Docker Container');
  assert.ok(r.board.virtual);
  assert.is(r.cpu.cores, 2);
  assert.ok(r.memory.totalBytes > 20 * 1024 ** 3);
  assert.ok(
    r.disks.some((d) => d.name === 'vda'),
    'disks come from blockDevices when diskLayout is empty',
  );
  assert.ok(r.filesystems.some((f) => f.mount === '/'));
  assert.equal(
    r.network.map((n) => n.name),
    ['eth0'],
    'loopback is left out',
  );
  assert.is(r.network[0]!.speedMbps, null, 'unknown speed (-1) is null, not a number');
  assert.equal(r.wifi, []);
  assert.is(r.temperatures.mainC, null);
});

test('placeholder serials are treated as unknown; Raspberry Pi model comes from system', () => {
  const pi: RawHardware = {
    ...raw,
    system: {
      manufacturer: 'Raspberry Pi Foundation',
      model: 'Raspberry Pi 5 Model B Rev 1.0',
      serial: 'To be filled by O.E.M.',
      virtual: false,
    },
    baseboard: { serial: '-' },
    osInfo: { ...raw.osInfo, serial: '' },
  };
  const r = buildHardwareReport(pi, []);
  assert.is(r.board.model, 'Raspberry Pi 5 Model B Rev 1.0');
  assert.is(r.board.serial, null);
});

test.run();
