// The one event map (agent/event-map.ts) against what the source publishes and what the page
// listens for: a name published in agent/ or api/ without an entry, an entry nobody publishes, a
// publish whose name is not written out (the scan could not see it), a page listening for an event
// that does not exist (or not listening for one that does), and docs/api.md missing one all fail here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_NAMES, EVENT_PAYLOADS } from '../../../agent/event-map.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Agreed with the mesh subsystem's owner, published there once its peer set is tracked; the test
// below fails as soon as it is published, so this list empties itself.
const PENDING = new Set<string>([]);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every `.publish(` call in agent/ and api/: the literal name, or the call's text when it has none. */
function publishCalls(): { literal: Map<string, string[]>; unnamed: string[] } {
  const literal = new Map<string, string[]>();
  const unnamed: string[] = [];
  for (const file of [...sources('agent'), ...sources('api')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.publish\(\s*([^,)]*)/g)) {
      const at = `${relative(ROOT, file)}:${text.slice(0, m.index).split('\n').length}`;
      const name = /^'([^'$]+)'$|^"([^"$]+)"$/.exec(m[1]!.trim());
      if (name) literal.set(name[1] ?? name[2]!, [...(literal.get(name[1] ?? name[2]!) ?? []), at]);
      else unnamed.push(`${at} publish(${m[1]}`);
    }
  }
  return { literal, unnamed };
}

/** The page's list of event names (api/web/app.js `const EVENT_TYPES = [...]`). */
function pageEventTypes(): string[] {
  const js = readFileSync(join(ROOT, 'api/web/app.js'), 'utf8');
  const list = /const EVENT_TYPES = \[([^\]]*)\]/.exec(js);
  assert.ok(list, 'app.js keeps its event names in one literal EVENT_TYPES array');
  return [...list[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
}

test('every name published in agent/ and api/ is written out and has an entry in the map', () => {
  const { literal, unnamed } = publishCalls();
  assert.equal(unnamed, [], 'publish with a computed name: write each name out');
  const missing = [...literal].filter(([name]) => !(name in EVENT_PAYLOADS)).map(([name, at]) => `${name} (${at.join(', ')})`);
  assert.equal(missing, [], 'published but not in agent/event-map.ts');
});

test('every entry of the map is published somewhere', () => {
  const { literal } = publishCalls();
  assert.equal(
    EVENT_NAMES.filter((name) => !literal.has(name) && !PENDING.has(name)),
    [],
    'in the map but published nowhere',
  );
  assert.equal(
    [...PENDING].filter((name) => literal.has(name)),
    [],
    'published now: remove it from PENDING',
  );
});

test('the page listens for exactly the events of the map', () => {
  const page = pageEventTypes();
  assert.equal(
    page.filter((name) => !(name in EVENT_PAYLOADS)),
    [],
    'the page listens for events that do not exist',
  );
  assert.equal(
    EVENT_NAMES.filter((name) => !page.includes(name)),
    [],
    'events the page does not follow',
  );
  assert.is(new Set(page).size, page.length, 'no name twice');
});

test('docs/api.md lists every event of the map', () => {
  const docs = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const rows = new Set([...docs.matchAll(/^\| `([a-z.]+)` \|/gm)].map((m) => m[1]!));
  assert.equal(
    EVENT_NAMES.filter((name) => !rows.has(name)),
    [],
    'events missing from the table',
  );
  assert.equal(
    [...rows].filter((name) => !(name in EVENT_PAYLOADS)),
    [],
    'rows for events that do not exist',
  );
});

test('every payload is described and closed (what the OpenAPI document and docs show)', () => {
  for (const name of EVENT_NAMES) {
    assert.ok(EVENT_PAYLOADS[name].description, `${name} has a description`);
    assert.is(EVENT_PAYLOADS[name].additionalProperties, false, `${name} lists all its fields`);
  }
});

test.run();
