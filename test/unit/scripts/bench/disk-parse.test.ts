// The disk benchmark's parsers, on output captured on this machine: fio 3.33's JSON report and ldd of
// Debian's fio.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseFio, parseLdd } from '../../../../scripts/bench/disk/parse.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/bench/${name}`, import.meta.url), 'utf8');

test('fio: 4 KiB random writes with fdatasync give IOPS, bandwidth and the median sync latency', () => {
  const r = parseFio(fixture('disk-fio-randwrite.json'), 'write');
  assert.is(r.bytesPerSecond, 18262185);
  assert.is(r.iops, 4458.541459);
  assert.is(r.runtimeMs, 1001);
  assert.is(r.syncP50Us, 185.344); // fio 3.33 leaves sync.total_ios at 0 even here
});

test('fio: a sequential read job, which did no syncs, and the wrong direction refused', () => {
  const r = parseFio(fixture('disk-fio-seqread.json'), 'read');
  assert.is(r.bytesPerSecond, 762600727);
  assert.is(r.syncP50Us, null);
  assert.throws(() => parseFio(fixture('disk-fio-seqread.json'), 'write'), /did no writes/);
});

test('fio: warnings before the JSON are skipped; a failed job or no report is an error', () => {
  assert.is(parseFio(`fio: some warning\n${fixture('disk-fio-seqread.json')}`, 'read').iops, 727.272727);
  const failed = fixture('disk-fio-seqread.json').replace('"error" : 0', '"error" : 5');
  assert.throws(() => parseFio(failed, 'read'), /failed with error 5/);
  assert.throws(() => parseFio('fio: failed to open file', 'read'), /not a fio JSON report/);
});

test('ldd of fio: the loader and every library, without the vdso; a missing library is an error', () => {
  const { loader, libraries } = parseLdd(fixture('disk-ldd-fio.txt'));
  assert.is(loader, '/lib64/ld-linux-x86-64.so.2');
  assert.is(libraries.length, 62);
  assert.ok(libraries.includes('/lib/x86_64-linux-gnu/libaio.so.1'));
  assert.not.ok(libraries.some((l) => l.includes('vdso')));
  assert.throws(() => parseLdd('\tlibfoo.so.1 => not found\n'), /libfoo.so.1 => not found/);
  assert.throws(() => parseLdd('\tnot a dynamic executable\n'), /no dynamic loader/);
});

test.run();
