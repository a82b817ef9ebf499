// The disk benchmark's parsers, on output captured on this machine: fio 3.33's JSON report, restic
// 0.14's backup --json, ldd of Debian's fio, an LXC node's /proc/PID/cgroup and the host's cgroup mounts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { isFrozen, parseFio, parseLdd, parseResticSummary, payloadCgroupDir } from '../../../../scripts/bench/disk/parse.ts';

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

test('restic backup --json: the summary line after the status lines', () => {
  const s = parseResticSummary(fixture('disk-restic-backup.jsonl'));
  assert.equal(s, {
    filesNew: 2,
    filesChanged: 0,
    filesUnmodified: 0,
    dataAdded: 3000898,
    totalBytesProcessed: 3000003,
    totalDuration: 0.29492794,
    snapshotId: 'bca17e41',
  });
  const statusOnly = fixture('disk-restic-backup.jsonl').split('\n').slice(0, 3).join('\n');
  assert.throws(() => parseResticSummary(statusOnly), /no summary line/);
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

test("a node's cgroup v2 directory on this hybrid host, also when init sits in a child cgroup", () => {
  const mounts = fixture('disk-mounts-hybrid.txt');
  const proc = fixture('disk-proc-cgroup.txt');
  assert.is(payloadCgroupDir(proc, mounts), '/sys/fs/cgroup/unified/lxc.payload.stbde8be-io');
  assert.is(payloadCgroupDir('0::/lxc.payload.web/init.scope\n', mounts), '/sys/fs/cgroup/unified/lxc.payload.web');
  assert.throws(() => payloadCgroupDir('0::/user.slice/session-1.scope\n', mounts), /not in an LXC container/);
  assert.throws(() => payloadCgroupDir(proc.replace(/^0::.*$/m, ''), mounts), /no 0:: line/);
  assert.throws(() => payloadCgroupDir(proc, mounts.replace(/^cgroup2 .*$/m, '')), /no cgroup2/);
});

test('cgroup.events: frozen or not', () => {
  assert.is(isFrozen('populated 1\nfrozen 0\n'), false);
  assert.is(isFrozen('populated 1\nfrozen 1\n'), true);
  assert.throws(() => isFrozen('populated 1\n'), /no frozen line/);
});

test.run();
