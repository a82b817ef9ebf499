import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findImportCycles, findLayerViolations } from '../../scripts/lib/layers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function sources(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const full = join(ROOT, dir, name);
    if (name === 'node_modules' || name === 'build' || name === 'web') continue;
    // lstat: the image's root file system holds links into the running system (dangling here)
    const entry = lstatSync(full);
    if (entry.isDirectory()) out.push(...sources(join(dir, name)));
    else if (entry.isFile() && /\.(ts|mts|js)$/.test(name)) out.push({ path: relative(ROOT, full), text: readFileSync(full, 'utf8') });
  }
  return out;
}

/** The project's sources under the given top folders (a missing folder is skipped). */
const tree = (...dirs: string[]) => dirs.flatMap((d) => (statSync(join(ROOT, d), { throwIfNoEntry: false }) ? sources(d) : []));

test('no module imports from a higher layer (api -> agent -> hardware)', () => {
  const files = tree('hardware', 'agent', 'api', 'scripts', 'image');
  assert.ok(files.length > 20, 'the tree was read');
  const violations = findLayerViolations(files);
  assert.equal(
    violations.map((v) => `${v.file} imports ${v.imports} (${v.from} -> ${v.to})`),
    [],
  );
});

test('the checker finds upward imports in every form', () => {
  // One file a form of import, and the upward imports it must be found to make (none for a lower layer or a package).
  const cases: [string, string, string[]][] = [
    ['hardware/x.ts', "import { a } from '../agent/a.ts';", ['../agent/a.ts']],
    ['agent/y.ts', "export { b } from '../api/b.ts';\nconst c = await import('../api/c.ts');", ['../api/b.ts', '../api/c.ts']],
    ['agent/z.ts', "import type { T } from '../hardware/t.ts';\nimport fastify from 'fastify';", []],
    ['api/w.ts', "import '../scripts/lib/s.ts'; import { q } from '../agent/q.ts';", ['../scripts/lib/s.ts']],
  ];
  const found = findLayerViolations(cases.map(([path, text]) => ({ path, text })));
  assert.equal(
    found.map((v) => `${v.file}:${v.imports}`),
    cases.flatMap(([path, , upward]) => upward.map((spec) => `${path}:${spec}`)),
  );
});

test('no import circle between files (type-only imports count: a circle of types is still a knot to read)', () => {
  assert.equal(findImportCycles(tree('hardware', 'agent', 'api', 'scripts', 'image', 'test')), []);
});

test('the circle finder finds direct and longer circles, and not shared imports', () => {
  const cycles = findImportCycles([
    { path: 'agent/a.ts', text: "import { b } from './b.ts';" },
    { path: 'agent/b.ts', text: "import type { A } from './a.ts';" },
    { path: 'agent/x/c.ts', text: "export { d } from '../d.ts';" },
    { path: 'agent/d.ts', text: "const e = await import('./e.ts');" },
    { path: 'agent/e.ts', text: "import './x/c.ts'; import { shared } from './shared.ts';" },
    { path: 'agent/f.ts', text: "import { shared } from './shared.ts'; import { b } from './b.ts';" },
    { path: 'agent/shared.ts', text: "import { readFileSync } from 'node:fs';" },
  ]);
  assert.equal(cycles.map((c) => c.join(' ')).sort(), ['agent/a.ts agent/b.ts', 'agent/d.ts agent/e.ts agent/x/c.ts']);
});

test.run();
