// A failing test must say so. uvu's reporter reads an error's `details` as a diff string; a
// StationError once carried an object there, and uvu then printed nothing, skipped the rest of
// the file and exited 0, hiding the failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../../agent/errors.ts';

const CHILD = fileURLToPath(new URL('../../fixtures/uvu/throws-station-error.ts', import.meta.url));

test('a StationError thrown in a test is reported as a failure, with its message, and the file goes on', () => {
  const out = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', timeout: 30_000 });
  assert.is(out.status, 1, `exit status (stdout: ${out.stdout})`);
  assert.match(out.stdout, /FAIL .*throws a station error with facts/);
  assert.match(out.stdout, /bad policy at ingress\[0\]/);
  assert.match(out.stdout, /Total:\s+2\s+Passed:\s+1/);
});

test('the facts still reach the error body (api/errors.ts reads them)', () => {
  assert.equal(new ValidationError('INVALID_POLICY', 'x', { at: 'ingress[0]' }).facts, { at: 'ingress[0]' });
});

test.run();
