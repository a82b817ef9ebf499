// The formatter breaks code at its line width but cannot break a long string or comment: this test
// holds those to the same width, so no source line is wider than biome.jsonc says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

function lineWidth(): number {
  const match = readFileSync(join(ROOT, 'biome.jsonc'), 'utf8').match(/"lineWidth":\s*(\d+)/);
  if (!match) throw new Error('biome.jsonc has no lineWidth');
  return Number(match[1]);
}

test('no TypeScript or JavaScript line is wider than the formatter’s line width', () => {
  const width = lineWidth();
  const files = execFileSync('git', ['ls-files', '*.ts', '*.js'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.startsWith('test/fixtures/') && !f.startsWith('image/rootfs/'));
  assert.ok(files.length > 100, 'the tree was read');
  const wide: string[] = [];
  for (const file of files) {
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if ([...line].length > width) wide.push(`${file}:${i + 1} (${[...line].length})`);
      });
  }
  assert.equal(wide, [], `lines over ${width} characters`);
});

test.run();
