import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { checkCapacity, parseMeminfo } from '../../../../agent/nodes/capacity.ts';
import { CapacityError } from '../../../../agent/errors.ts';

const MiB = 1024 * 1024;
const host = { memoryTotalBytes: 4096 * MiB, memoryAvailableBytes: 3000 * MiB, diskFreeBytes: 10_000 * MiB, cpus: 2 };

function refusedWith(fn: () => void, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CapacityError);
    assert.is((e as CapacityError).code, code);
    return;
  }
  assert.unreachable('accepted');
}

test('a node that fits is accepted', () => {
  checkCapacity({ name: 'a', template: 'busybox', memoryMB: 512, cpus: 1 }, host, 0);
  checkCapacity({ name: 'a', template: 'debian' }, host, 0);
});

test('memory beyond what is available now is refused', () => {
  refusedWith(() => checkCapacity({ name: 'a', template: 'busybox', memoryMB: 2900 }, host, 0), 'INSUFFICIENT_MEMORY');
});

test('memory other nodes reserve counts even when they do not use it yet', () => {
  checkCapacity({ name: 'a', template: 'busybox', memoryMB: 1000 }, host, 2000);
  refusedWith(() => checkCapacity({ name: 'a', template: 'busybox', memoryMB: 1000 }, host, 3000), 'INSUFFICIENT_MEMORY');
});

test('the error says what was asked and what is free', () => {
  try {
    checkCapacity({ name: 'big', template: 'busybox', memoryMB: 100_000 }, host, 0);
  } catch (e) {
    assert.match((e as Error).message, /big needs 100000 MiB .* can give \d+ MiB/);
    return;
  }
  assert.unreachable();
});

test('disk and CPUs that do not fit are refused', () => {
  refusedWith(() => checkCapacity({ name: 'a', template: 'debian' }, { ...host, diskFreeBytes: 600 * MiB }, 0), 'INSUFFICIENT_DISK');
  checkCapacity({ name: 'a', template: 'busybox' }, { ...host, diskFreeBytes: 600 * MiB }, 0);
  refusedWith(() => checkCapacity({ name: 'a', template: 'busybox', cpus: 3 }, host, 0), 'NODE_TOO_BIG');
});

test('meminfo captured on the VM parses to total and available', () => {
  const text = readFileSync(new URL('../../../fixtures/nodes/meminfo-vm.txt', import.meta.url), 'utf8');
  const m = parseMeminfo(text);
  const total = Number(/MemTotal:\s+(\d+)/.exec(text)![1]) * 1024;
  const available = Number(/MemAvailable:\s+(\d+)/.exec(text)![1]) * 1024;
  assert.is(m.totalBytes, total);
  assert.is(m.availableBytes, available);
  assert.ok(m.availableBytes <= m.totalBytes);
});

test.run();
