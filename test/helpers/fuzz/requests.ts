// One random request for a route: method, path parameters, query, headers (Host, Origin, content
// type, credentials) and body, as plain data, so fast-check can shrink it and a finding can be
// printed and replayed as it was sent.
import fc from 'fast-check';
import type { JsonSchema, Operation } from './operations.ts';
import { valueFor } from './schema-values.ts';
import { nastySegment, nastyQuery, rawBody, oversizedBody, nastyString, encodeSafely } from './hostile.ts';

export type Credential = 'none' | 'admin' | 'wrong' | 'admin-mangled' | 'session';

export interface FuzzRequest {
  method: string;
  /** the route it was made for (documented path) */
  route: string;
  url: string;
  headers: Record<string, string>;
  /** undefined: no body */
  payload: string | Buffer | undefined;
  credential: Credential;
  /** the kind of Host sent: the station's own name, a foreign one, or a malformed one */
  host: 'own' | 'foreign' | 'malformed';
  origin: 'none' | 'own' | 'foreign';
  remoteAddress: string;
}

export interface StationFacts {
  /** names the station answers to (Host), e.g. test, test.local, localhost, 127.0.0.1 */
  ownHosts: string[];
  bodyLimitBytes: number;
  components?: Record<string, JsonSchema>;
}

const FOREIGN_HOSTS = [
  'evil.example',
  'evil.example:8088',
  'test.evil.example',
  'test.local.evil.example',
  '203.0.113.9',
  '[2001:db8::1]:80',
  'localhost.evil.example',
  'xn--tst-qla.example',
];
const MALFORMED_HOSTS = [
  '',
  ' ',
  'test.local@evil.example',
  'evil.example/test',
  'localhost:8088:99',
  'localhost:abc',
  '[::1',
  'a b',
  'x'.repeat(4096),
  '127.0.0.1\u0000.evil.example',
  'LOCALHOST',
  'test.local.',
  'Test.Local:8088',
];
const REMOTES = ['127.0.0.1', '::1', '192.168.1.23', '10.0.0.5', '100.64.0.7', '100.99.1.1', 'fe80::1', '::ffff:192.168.1.5', '172.17.0.2'];

/** A different client address for most requests, so the failed-token limiter (per client) rarely blocks the fuzzer. */
const remoteAddress = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...REMOTES) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.integer({ min: 18, max: 19 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 254 }))
      .map(([a, b, c]) => `198.${a}.${b}.${c}`),
  },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json;charset="latin1"',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/merge-patch+json',
  'application/octet-stream',
  ';;;',
  'application/',
  '*/*',
  'application/json; charset=utf-8; charset=ascii',
];

function credentialHeader(credential: Credential, token: string, session: string | undefined): string | undefined {
  switch (credential) {
    case 'none':
      return undefined;
    case 'admin':
      return `Bearer ${token}`;
    case 'session':
      return session ? `Bearer ${session}` : `Bearer ${token}`;
    case 'wrong':
      return undefined; // replaced by a drawn value below
    case 'admin-mangled':
      return undefined;
  }
}

const wrongAuthorization = fc.oneof(
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer wrong-token',
    'Basic YWRtaW46YWRtaW4=',
    'Token abc',
    'bearer',
    'Bearer null',
    'Bearer undefined',
    'Bearer \u0000',
    `Bearer ${'A'.repeat(8000)}`,
    'Bearer a b',
  ),
  nastyString.map((s) => `Bearer ${s.slice(0, 8000)}`),
);

/** The admin token, almost: a prefix, a suffix, a case change, in another scheme. It must never be accepted. */
function mangled(token: string): fc.Arbitrary<string> {
  return fc.constantFrom(
    `Bearer ${token.slice(0, -1)}`,
    `Bearer ${token}x`,
    `Bearer ${token.toUpperCase()}`,
    `Basic ${token}`,
    `Bearer  ${token.slice(1)}`,
    `Bearer ${token.slice(0, token.length / 2)}`,
    `${token}`,
    `Bearer ${token.split('').reverse().join('')}`,
  );
}

function pathFor(op: Operation, clean: boolean): fc.Arbitrary<string> {
  if (!op.pathParams.length) return fc.constant(op.path);
  const segments = op.pathParams.map((p) =>
    fc.oneof(
      { weight: clean ? 8 : 3, arbitrary: valueFor(p.schema, { strict: true }).map((v) => encodeSafely(String(v))) },
      { weight: 2, arbitrary: nastySegment },
    ),
  );
  return fc.tuple(...segments).map((values) => {
    let i = 0;
    return op.path.replace(/\{[^}]+\}/g, () => values[i++]!);
  });
}

function queryFor(op: Operation, clean: boolean): fc.Arbitrary<string> {
  const documented = op.queryParams.length
    ? fc
        .tuple(
          ...op.queryParams.map((q) =>
            fc.option(
              valueFor(q.schema, { hostility: 0.2 }).map((v) => `${encodeSafely(q.name)}=${encodeSafely(typeof v === 'string' ? v : JSON.stringify(v))}`),
              { nil: undefined },
            ),
          ),
        )
        .map((parts) => parts.filter((p) => p !== undefined).join('&'))
    : fc.constant('');
  if (clean) return fc.oneof(documented, fc.constant(''));
  return fc.oneof(
    { weight: 5, arbitrary: documented },
    { weight: 2, arbitrary: nastyQuery(op.queryParams.map((q) => q.name)) },
    { weight: 2, arbitrary: fc.constant('') },
  );
}

function bodyFor(op: Operation, facts: StationFacts, clean: boolean): fc.Arbitrary<string | Buffer | undefined> {
  const json = (strict: boolean) =>
    op.body ? valueFor(op.body, { components: facts.components, strict }).map((v) => JSON.stringify(v) ?? 'null') : fc.constantFrom('{}', '');
  if (clean) return fc.oneof({ weight: 7, arbitrary: json(true) }, { weight: 3, arbitrary: json(false) });
  return fc.oneof(
    { weight: 4, arbitrary: json(true) },
    { weight: 7, arbitrary: json(false) },
    { weight: 3, arbitrary: rawBody },
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: oversizedBody(facts.bodyLimitBytes) },
  );
}

type Envelope = Pick<FuzzRequest, 'method'> & {
  credential: Credential;
  host: { kind: FuzzRequest['host']; value: string };
  origin: { kind: FuzzRequest['origin']; value: string | undefined };
  extra: Record<string, string | undefined>;
};

/**
 * Half the requests come in a clean envelope (the route's method, an own Host, the admin token or a
 * pairing session, JSON): they pass the gates, so what lies behind them (validation, the agent) is
 * fuzzed. The other half vary everything around the body too (foreign Host and Origin, no or wrong
 * credentials, odd content types, other methods), so the gates themselves are fuzzed.
 */
function envelope(op: Operation, facts: StationFacts, clean: boolean): fc.Arbitrary<Envelope> {
  const ownHost = fc.constantFrom(...facts.ownHosts).map((h) => ({ kind: 'own' as const, value: h }));
  const noOrigin = fc.constant({ kind: 'none' as const, value: undefined });
  const ownOrigin = fc.constantFrom(...facts.ownHosts.map((h) => `http://${h}`)).map((v) => ({ kind: 'own' as const, value: v }));
  if (clean) {
    return fc.record({
      method: fc.constant(op.method),
      credential: fc.oneof({ weight: 5, arbitrary: fc.constant<Credential>('admin') }, { weight: 1, arbitrary: fc.constant<Credential>('session') }),
      host: ownHost,
      origin: fc.oneof({ weight: 3, arbitrary: noOrigin }, { weight: 1, arbitrary: ownOrigin }),
      extra: fc.record({ 'last-event-id': fc.option(fc.constantFrom('1', '5', '999999999999'), { nil: undefined, freq: 5 }) }, { requiredKeys: [] }),
    });
  }
  return fc.record({
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constant(op.method) },
      { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PUT', 'PATCH', 'DELETE', 'POST', 'GET', 'TRACE') },
    ),
    credential: fc.oneof(
      { weight: 2, arbitrary: fc.constant<Credential>('admin') },
      { weight: 1, arbitrary: fc.constant<Credential>('session') },
      { weight: 4, arbitrary: fc.constant<Credential>('none') },
      { weight: 2, arbitrary: fc.constantFrom<Credential>('wrong', 'admin-mangled') },
    ),
    host: fc.oneof(
      { weight: 4, arbitrary: ownHost },
      { weight: 2, arbitrary: fc.constantFrom(...FOREIGN_HOSTS).map((h) => ({ kind: 'foreign' as const, value: h })) },
      { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_HOSTS).map((h) => ({ kind: 'malformed' as const, value: h })) },
    ),
    origin: fc.oneof(
      { weight: 4, arbitrary: noOrigin },
      { weight: 1, arbitrary: ownOrigin },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(
            'http://evil.example',
            'null',
            'https://test.local.evil.example',
            'http://test.local, http://evil.example',
            'file://',
            'http://localhost@evil.example',
          )
          .map((v) => ({ kind: 'foreign' as const, value: v })),
      },
    ),
    extra: fc.record(
      {
        'content-type': fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 2 }),
        'last-event-id': fc.option(fc.constantFrom('0', '1', '-1', '999999999999', 'NaN', '1e3', 'abc', '0x1', ' 1', '1'.repeat(400)), {
          nil: undefined,
          freq: 3,
        }),
        'x-forwarded-for': fc.option(fc.constantFrom('127.0.0.1', '100.64.0.1', '::1', 'evil'), { nil: undefined, freq: 4 }),
        'accept-encoding': fc.option(fc.constantFrom('gzip', 'identity', 'br, gzip', '*'), { nil: undefined, freq: 3 }),
        'if-none-match': fc.option(fc.constantFrom('*', '"x"', 'W/"x"'), { nil: undefined, freq: 4 }),
        'x-huge': fc.option(
          fc.constantFrom(1024, 8000).map((n) => 'h'.repeat(n)),
          { nil: undefined, freq: 6 },
        ),
      },
      { requiredKeys: [] },
    ),
  });
}

export function requestFor(op: Operation, facts: StationFacts, secrets: { token: string; session: () => string | undefined }): fc.Arbitrary<FuzzRequest> {
  const build = (clean: boolean) =>
    fc.record({
      envelope: envelope(op, facts, clean),
      path: pathFor(op, clean),
      query: queryFor(op, clean),
      payload: bodyFor(op, facts, clean),
      wrongAuth: wrongAuthorization,
      mangledAuth: mangled(secrets.token),
      remoteAddress,
    });
  return fc.oneof(build(true), build(false)).map(({ envelope: e, ...r }) => {
    const headers: Record<string, string> = { host: e.host.value };
    if (e.origin.value !== undefined) headers.origin = e.origin.value;
    for (const [k, v] of Object.entries(e.extra)) if (v !== undefined) headers[k] = v;
    const auth =
      e.credential === 'wrong'
        ? r.wrongAuth
        : e.credential === 'admin-mangled'
          ? r.mangledAuth
          : credentialHeader(e.credential, secrets.token, secrets.session());
    if (auth !== undefined) headers.authorization = auth;
    // Bodies say they are JSON unless the envelope drew another content type.
    if (r.payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    return {
      method: e.method,
      route: `${op.method} ${op.path}`,
      url: r.query ? `${r.path}?${r.query}` : r.path,
      headers,
      payload: r.payload,
      credential: e.credential === 'session' && !secrets.session() ? 'admin' : e.credential,
      host: e.host.kind,
      origin: e.origin.kind,
      remoteAddress: r.remoteAddress,
    };
  });
}

/** The request, short enough for a report: long strings cut, bodies summarised. */
export function describe(req: FuzzRequest, token: string): Record<string, unknown> {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 200)}…(${s.length} chars)` : s);
  const hideToken = (s: string) => s.split(token).join('<admin-token>');
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, cut(hideToken(v))]));
  const payload =
    req.payload === undefined
      ? undefined
      : Buffer.isBuffer(req.payload)
        ? `<${req.payload.length} bytes: ${req.payload.toString('hex').slice(0, 80)}>`
        : cut(req.payload);
  return { method: req.method, url: cut(req.url), headers, payload, credential: req.credential, remoteAddress: req.remoteAddress };
}
