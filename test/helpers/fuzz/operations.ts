// The routes to fuzz, read from the app itself: every operation of its OpenAPI document (with the
// schemas of its path, query and body), and the routes the document hides (the status page, its
// assets, the captive-portal probes, /metrics, the document itself) as plain GETs. Routes added
// later are fuzzed without anyone listing them here.
import type { FastifyInstance } from 'fastify';

export type JsonSchema = Record<string, unknown>;

export interface Operation {
  /** `GET`, `POST`, ... as documented */
  method: string;
  /** the documented path, `/api/v1/nodes/{name}` */
  path: string;
  /** the group it is fuzzed and counted in: the first segment after /api/v1 (`nodes`, `mesh`, ...) */
  group: string;
  pathParams: { name: string; schema: JsonSchema }[];
  queryParams: { name: string; schema: JsonSchema; required: boolean }[];
  body: JsonSchema | undefined;
  /** true when the document says a bearer is needed (`security: [{ bearer: [] }]`) */
  needsToken: boolean;
  /** true for routes the OpenAPI document does not show (page, probes) */
  hidden: boolean;
}

interface DocOperation {
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, DocOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Groups: the station's small reads share one group, so each group has enough routes to matter. */
const STATION_READS = new Set(['health', 'ready', 'status', 'hardware', 'metrics', 'events']);

export function groupOf(path: string): string {
  const m = /^\/api\/v1\/([^/{]+)/.exec(path);
  if (!m) return 'page';
  const first = m[1]!;
  if (STATION_READS.has(first)) return 'station';
  if (first === 'session') return 'pairing';
  return first;
}

export async function readOpenApi(app: FastifyInstance): Promise<OpenApiDoc> {
  const res = await app.inject({ url: '/api/openapi.json' });
  if (res.statusCode !== 200) throw new Error(`GET /api/openapi.json answered ${res.statusCode}`);
  return res.json() as OpenApiDoc;
}

export function documentedOperations(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        group: groupOf(path),
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema })),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema, required: p.required === true })),
        body: op.requestBody?.content?.['application/json']?.schema,
        needsToken: Array.isArray(op.security) && op.security.some((s) => typeof s === 'object' && s !== null && 'bearer' in s),
        hidden: false,
      });
    }
  }
  return ops;
}

/** GET routes Fastify serves that the document leaves out, read from its route tree. */
export function hiddenGetRoutes(app: FastifyInstance, documented: Operation[]): Operation[] {
  const known = new Set(documented.map((o) => `${o.method} ${o.path.replace(/\{(\w+)\}/g, ':$1')}`));
  const out: Operation[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+) \(([A-Z, ]+)\)$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    stack.length = m[1]!.length / 4;
    stack.push(m[2]!);
    const path = stack.join('').replace(/^\/?/, '/');
    if (!m[3]!.split(', ').includes('GET') || known.has(`GET ${path}`) || path.includes(':') || path.includes('*')) continue;
    out.push({ method: 'GET', path, group: 'page', pathParams: [], queryParams: [], body: undefined, needsToken: false, hidden: true });
  }
  return out;
}

export async function allOperations(app: FastifyInstance): Promise<{ doc: OpenApiDoc; operations: Operation[] }> {
  const doc = await readOpenApi(app);
  const documented = documentedOperations(doc);
  return { doc, operations: [...documented, ...hiddenGetRoutes(app, documented)] };
}

export function byGroup(operations: Operation[]): Map<string, Operation[]> {
  const groups = new Map<string, Operation[]>();
  for (const op of operations) groups.set(op.group, [...(groups.get(op.group) ?? []), op]);
  return groups;
}
