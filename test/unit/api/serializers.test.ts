// Response serializers are compiled on a route's first reply (api/lazy-serializers.ts): an idle
// station holds none it has not used, and every route's schemas still compile.
import { suite } from '../../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { createTestStation, type TestStation } from '../../helpers/system.ts';

type Serializers = { compiled: () => number; compileAll: () => void };
const serializers = (station: TestStation) => (station.app as unknown as { serializers: Serializers }).serializers;
const validators = (station: TestStation) => (station.app as unknown as { validators: Serializers }).validators;

const s = suite<{ station: TestStation }>('lazy serializers');
s.before(async (ctx) => {
  ctx.station = await createTestStation();
});
s.after(async (ctx) => {
  await ctx.station.close();
});

s('none is compiled at start-up; a route compiles its own on first reply, once', async ({ station }) => {
  assert.is(serializers(station).compiled(), 0);
  const first = await station.app.inject({ url: '/api/v1/health' });
  assert.is(first.statusCode, 200);
  const afterOne = serializers(station).compiled();
  assert.ok(afterOne >= 1, 'the health reply compiled its serializer');
  const again = await station.app.inject({ url: '/api/v1/health' });
  assert.equal(again.json(), first.json());
  assert.is(serializers(station).compiled(), afterOne);
});

s("every route's response schemas compile", ({ station }) => {
  serializers(station).compileAll(); // throws on a schema fast-json-stringify rejects
  assert.ok(serializers(station).compiled() > 20, `${serializers(station).compiled()} serializers`);
});

s('validators: none at start-up; a bad request is still refused with the validation message', async ({ station }) => {
  assert.is(validators(station).compiled(), 0);
  const bad = await station.app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    headers: { authorization: `Bearer ${station.token}` },
    payload: { name: 42 },
  });
  assert.is(bad.statusCode, 400);
  assert.match(bad.body, /name/);
  assert.ok(validators(station).compiled() >= 1);
  validators(station).compileAll();
  assert.ok(validators(station).compiled() > 5, `${validators(station).compiled()} validators`);
});

s.run();
