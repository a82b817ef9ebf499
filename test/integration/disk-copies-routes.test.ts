// The copies' routes on a real in-process station (its disk room not started: copies are off):
// the overview is open, every change and every read of data needs the token, bad input is a 400
// with nothing changed, and a station that cannot copy says why (503) instead of failing.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { createTestStation, type TestStation } from '../helpers/system.ts';

let station: TestStation;
test.before(async () => {
  station = await createTestStation();
});
test.after(async () => {
  await station?.close();
});

const call = (method: 'GET' | 'POST', url: string, body?: unknown, token = true) =>
  station.app.inject({ method, url: `/api/v1${url}`, payload: body as object, headers: token ? { authorization: `Bearer ${station.token}` } : {} });

test('the copies overview is open and lists every node', async () => {
  const r = await call('GET', '/disk/copies', undefined, false);
  assert.is(r.statusCode, 200);
  assert.equal(r.json(), { nodes: [] });
});

test('backup, restore and reading a file need the token', async () => {
  assert.is((await call('POST', '/disk/backup/web', undefined, false)).statusCode, 401);
  assert.is((await call('POST', '/disk/restore', { node: 'web' }, false)).statusCode, 401);
  assert.is((await call('GET', '/disk/copies/web/files?volume=data&path=x', undefined, false)).statusCode, 401);
});

test('bad names are refused with 400 before anything is done', async () => {
  const bad = await call('POST', '/disk/restore', { node: '../etc' });
  assert.is(bad.statusCode, 400);
  const extra = await call('POST', '/disk/restore', { node: 'web', wipe: true });
  assert.is(extra.statusCode, 400);
  const snap = await call('POST', '/disk/restore', { node: 'web', snapshot: '-rf' });
  assert.is(snap.statusCode, 400);
});

test('with copies off, a backup or restore says why (503)', async () => {
  const r = await call('POST', '/disk/restore', { node: 'web' });
  assert.is(r.statusCode, 503);
  assert.match(r.json().error.message, /copies are off/);
  const b = await call('POST', '/disk/backup/web');
  assert.ok([404, 503].includes(b.statusCode), `got ${b.statusCode}`);
});

test.run();
