import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateDocument } from '../../../../agent/store/document.ts';
import { tempDir, removeTempDirs } from '../../../helpers/temp-dirs.ts';

const dir = () => tempDir('st-store-');
test.after(removeTempDirs);

test('a new document starts from initial and persists updates with a version', async () => {
  const file = join(dir(), 'nodes.json');
  const doc = new StateDocument({ file, version: 1, initial: () => ({ nodes: [] as string[] }) });
  assert.equal(await doc.load(), { nodes: [] });
  await doc.update((d) => {
    d.nodes.push('web');
  });
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(saved.version, 1);
  assert.equal(saved.data, { nodes: ['web'] });
  const again = new StateDocument({ file, version: 1, initial: () => ({ nodes: [] as string[] }) });
  assert.equal(await again.load(), { nodes: ['web'] });
});

test('concurrent updates are applied in order and none is lost', async () => {
  const file = join(dir(), 'c.json');
  const doc = new StateDocument({ file, version: 1, initial: () => ({ n: 0 }) });
  await doc.load();
  await Promise.all(
    Array.from({ length: 50 }, () =>
      doc.update((d) => {
        d.n++;
      }),
    ),
  );
  assert.is(JSON.parse(readFileSync(file, 'utf8')).data.n, 50);
  assert.equal(
    readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

test('a write that fails leaves memory as it was on disk, and a later update works', async () => {
  const file = join(dir(), 'w.json');
  const doc = new StateDocument({ file, version: 1, initial: () => ({ nodes: ['a'] }) });
  await doc.load();
  await doc.update((d) => {
    d.nodes.push('b');
  });
  // a directory where the file goes: the rename of the finished temp file fails for real (EISDIR)
  rmSync(file);
  mkdirSync(file);
  let failure: Error | undefined;
  await doc
    .update((d) => {
      d.nodes.push('lost');
    })
    .catch((e: Error) => {
      failure = e;
    });
  assert.match(String(failure), /EISDIR|directory/);
  assert.equal(doc.get(), { nodes: ['a', 'b'] }, 'memory still holds what was last written');
  rmdirSync(file);
  await doc.update((d) => {
    d.nodes.push('c');
  });
  assert.equal(doc.get(), { nodes: ['a', 'b', 'c'] });
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).data, { nodes: ['a', 'b', 'c'] });
});

test('queued updates: one that fails in the middle is dropped, the ones around it are kept in order', async () => {
  const file = join(dir(), 'q.json');
  const doc = new StateDocument({ file, version: 1, initial: () => ({ log: [] as string[] }) });
  await doc.load();
  await doc.update((d) => {
    d.log.push('start');
  });
  const results = await Promise.allSettled([
    doc.update((d) => {
      d.log.push('first');
    }),
    // this one breaks its own write: the file's place is taken by a directory while it runs
    doc.update((d) => {
      rmSync(file);
      mkdirSync(file);
      d.log.push('failed');
    }),
    doc.update((d) => {
      rmdirSync(file);
      d.log.push('third');
    }),
  ]);
  assert.equal(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal(doc.get().log, ['start', 'first', 'third'], 'the failed change is not in memory, and the next one built on what was written');
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).data.log, ['start', 'first', 'third'], 'memory and disk agree');
});

test('older documents are migrated forward and rewritten', async () => {
  const file = join(dir(), 'm.json');
  writeFileSync(file, JSON.stringify({ version: 1, savedAt: '', data: { names: ['a'] } }));
  const doc = new StateDocument({
    file,
    version: 2,
    initial: () => ({ nodes: {} as Record<string, object> }),
    migrations: { 1: (d) => ({ nodes: Object.fromEntries((d as { names: string[] }).names.map((n) => [n, {}])) }) },
  });
  assert.equal(await doc.load(), { nodes: { a: {} } });
  assert.is(JSON.parse(readFileSync(file, 'utf8')).version, 2);
});

test('a document from a newer agent is refused, not misread', async () => {
  const file = join(dir(), 'n.json');
  writeFileSync(file, JSON.stringify({ version: 7, savedAt: '', data: {} }));
  const doc = new StateDocument({ file, version: 2, initial: () => ({}) });
  try {
    await doc.load();
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /newer agent/);
  }
});

test('mode is applied to secret documents', async () => {
  const file = join(dir(), 's.json');
  const doc = new StateDocument({ file, version: 1, initial: () => ({ key: 'x' }), mode: 0o600 });
  await doc.load();
  await doc.update(() => ({ key: 'y' }));
  assert.is(statSync(file).mode & 0o777, 0o600);
});

test.run();
