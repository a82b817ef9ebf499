// The OpenAPI document (api/openapi.ts): @fastify/swagger renders it from the routes the app noted,
// on first request. Checked on small route sets and on the station's own document.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type } from '@sinclair/typebox';
import { openApiDocumentOnDemand, renderOpenApi, type NotedRoute } from '../../../api/openapi.ts';
import { createTestStation } from '../../helpers/system.ts';
import { EVENT_NAMES } from '../../../agent/event-map.ts';

const INFO = { info: { title: 'T', version: '1' }, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } };
const Thing = Type.Object({ name: Type.String() }, { $id: 'Thing', description: 'a thing' });

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any> };
};
const render = async (routes: NotedRoute[], shared: Record<string, unknown> = {}) => (await renderOpenApi(routes, shared, INFO)) as unknown as Doc;

test('routes with their parameters, body, responses and security; shared schemas as components', async () => {
  const doc = await render(
    [
      {
        method: 'GET',
        url: '/things/:name',
        schema: {
          summary: 'one thing',
          tags: ['t'],
          params: Type.Object({ name: Type.String({ description: 'its name' }) }),
          querystring: Type.Object({ full: Type.Optional(Type.Boolean()) }),
          response: { 200: Type.Ref('Thing') },
        },
      },
      {
        method: 'PATCH',
        url: '/things/:name',
        schema: { params: Type.Object({ name: Type.String() }), body: Type.Object({ name: Type.String() }), security: [{ bearer: [] }] },
      },
      { method: 'HEAD', url: '/things/:name', schema: {} },
    ],
    { Thing },
  );
  assert.is(doc.openapi, '3.1.0');
  assert.equal(Object.keys(doc.paths), ['/things/{name}']);
  assert.equal(Object.keys(doc.paths['/things/{name}']!).sort(), ['get', 'patch'], 'HEAD, which Fastify adds by itself, is not listed');
  const get = doc.paths['/things/{name}']!.get;
  assert.is(get.summary, 'one thing');
  const params = Object.fromEntries(
    get.parameters.map((p: { in: string; name: string; required: boolean; description?: string }) => [`${p.in}:${p.name}`, [p.required, p.description]]),
  );
  assert.equal(params, { 'path:name': [true, 'its name'], 'query:full': [false, undefined] });
  assert.equal(get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/Thing' });
  const patch = doc.paths['/things/{name}']!.patch;
  assert.equal(patch.security, [{ bearer: [] }]);
  assert.ok(patch.requestBody.content['application/json'].schema.properties.name);
  assert.is(doc.components.schemas.Thing.description, 'a thing');
  assert.equal(doc.components.securitySchemes, INFO.securitySchemes);
});

test('hidden routes are left out', async () => {
  const doc = await render([
    { method: 'GET', url: '/shown', schema: {} },
    { method: 'GET', url: '/', schema: { hide: true } },
  ]);
  assert.equal(Object.keys(doc.paths), ['/shown']);
});

test('rendered once, then served from memory', async () => {
  const routes: NotedRoute[] = [{ method: 'GET', url: '/a', schema: {} }];
  const documentOf = openApiDocumentOnDemand(routes, {}, INFO);
  const first = await documentOf();
  routes.push({ method: 'GET', url: '/b', schema: {} });
  assert.is(await documentOf(), first);
});

test("the station's own document: every API route, every reference resolves, mutations need the token", async () => {
  const station = await createTestStation();
  try {
    const res = await station.app.inject({ url: '/api/openapi.json' });
    assert.is(res.statusCode, 200);
    const doc = res.json() as Doc;
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(refs.length > 20, `${refs.length} references`);
    for (const ref of new Set(refs)) assert.ok(doc.components.schemas[ref], `${ref} is in components.schemas`);
    assert.ok(
      Object.keys(doc.paths).every((p) => p.startsWith('/api/v1/')),
      'the page and the document itself are hidden',
    );
    assert.ok(Object.keys(doc.paths).length >= 30);
    assert.equal(doc.paths['/api/v1/nodes']!.post.security, [{ bearer: [] }]);
    assert.is(doc.paths['/api/v1/status']!.get.security, undefined, 'reads are open');
    // The event stream: every event of the map, with its payload, one variant each.
    const stream = doc.paths['/api/v1/events']!.get.responses['200'].content['text/event-stream'].schema;
    assert.equal(stream, { $ref: '#/components/schemas/StationEvent' });
    const variants = doc.components.schemas.StationEvent.anyOf as {
      properties: { type: { enum: string[] }; data: { properties: Record<string, unknown> } };
    }[];
    assert.equal(
      variants.map((v) => v.properties.type.enum[0]),
      EVENT_NAMES,
    );
    const progress = variants.find((v) => v.properties.type.enum[0] === 'node.progress')!;
    assert.equal(Object.keys(progress.properties.data.properties), ['name', 'template', 'message']);
  } finally {
    await station.close();
  }
});

test.run();
