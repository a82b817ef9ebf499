// Values an attacker or a broken client sends: boundary strings and numbers, wrong types, deep
// nesting, prototype keys, odd encodings. Every arbitrary here is small and cheap to generate; the
// huge ones are built by repetition (fast-check would take seconds to draw 2 MB character by character).
import fc from 'fast-check';

/** encodeURIComponent that does not throw on lone surrogates (sent as U+FFFD, as a browser would). */
export const encodeSafely = (text: string): string => encodeURIComponent(text.toWellFormed());

/** Strings that break naive code: empty, whitespace, control characters, unicode tricks, paths, injections. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31m',
  '\u202eevil',
  '\ufeff',
  '\u200b',
  'é',
  'ñandú',
  '😀',
  '\ud800',
  '\udfff',
  'Ａ',
  'İ',
  'ǅ',
  '١٢٣',
  '..',
  '.',
  '../../etc/passwd',
  '/etc/passwd',
  '%2e%2e',
  'a/b',
  'a\\b',
  '~',
  '-',
  '--help',
  '-rf',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '0x10',
  '1_000',
  '$(id)',
  '`id`',
  '; id',
  '| id',
  "'",
  '"',
  '${HOME}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  'line\nkey: value',
  'a\r\nSet-Cookie: x=1',
  'x'.repeat(63),
  'x'.repeat(64),
  'x'.repeat(255),
  'x'.repeat(256),
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  // long strings, by repetition of a random piece
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }), fc.constantFrom(1000, 8192, 65_537, 200_000))
      .map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n)),
  },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    0.5,
    -0.5,
    1e-300,
    1e300,
    -1e300,
    2 ** 31,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    65535,
    65536,
    99999,
    1_048_577,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Arrays and objects nested `depth` levels: JSON parsers and recursive validators meet their limits. */
export function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** Any JSON value of the wrong kind, including deep nesting and prototype-polluting keys. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], { '': '' }) },
  { weight: 1, arbitrary: fc.constantFrom(10, 100, 1000).chain((d) => fc.constantFrom(nested(d, 'array'), nested(d, 'object'))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(JSON.parse('{"__proto__":{"admin":true}}') as unknown, { constructor: { prototype: { admin: true } } }),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A path segment as a client might send it in the URL (already percent-encoded or not). */
export const nastySegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E',
    '%2f',
    '%2F',
    'a%2Fb',
    '%00',
    'a%00b',
    '%',
    '%zz',
    '%e9',
    '%c3%a9',
    '%ff%fe',
    '%20',
    '+',
    'constructor',
    '__proto__',
    'prototype',
    'tostring',
    'CON',
    'a.b',
    'a..b',
    '-a',
    'a-',
    'A',
    'UPPER',
    '0',
    '00',
    '%3F',
    '%23',
    '%25',
    'a;b',
    'a,b',
    "a'b",
    '*',
    '~root',
    'x'.repeat(63),
    'x'.repeat(64),
    'x'.repeat(300),
    'x'.repeat(5000),
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeSafely),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }).map((s) => s.replace(/[/?#\s]/g, 'x')),
);

/** Query strings: random keys, repeated keys (become arrays), array syntax, odd encodings, huge. */
export function nastyQuery(known: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    fc.constantFrom(...(known.length ? known : ['q']), '__proto__', 'constructor', 'a[]', 'a[b]', ''),
    fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map(encodeSafely),
  );
  const value = fc.oneof(
    fc.constantFrom('', 'yes', 'no', 'delete', 'keep', 'local', 'all', '-1', '99999', '1e3', '0x10', 'NaN', '%', '%zz', '%00', 'x'.repeat(10_000)),
    fc.string({ maxLength: 12 }).map(encodeSafely),
  );
  return fc.array(fc.tuple(key, value, fc.boolean()), { maxLength: 5 }).map((pairs) => pairs.map(([k, v, withEq]) => (withEq ? `${k}=${v}` : k)).join('&'));
}

/** A raw request body that is not what the route expects: broken JSON, other formats, huge. */
export const rawBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '[',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}{"b":2}',
    'null',
    'true',
    '0',
    '-0',
    '1e999',
    '""',
    '[]',
    '{}',
    '\ufeff{}',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '{"a":1,"a":2}',
    'a=1&b=2',
    '<xml/>',
    '\u0000',
    ' ',
    '\n',
    '{"name":"\ud800"}',
    '{"name":"\\ud800"}',
    '{"name":"\\u0000"}',
  ),
  fc.constantFrom(1000, 20_000, 100_000).map((d) => '['.repeat(d)),
  fc.constantFrom(1000, 20_000).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 64 }),
);

/** Around the body limit (2 MiB): just under, just over, far over. Built as one JSON object with a long string. */
export function oversizedBody(limitBytes: number): fc.Arbitrary<string> {
  return fc.constantFrom(limitBytes - 64, limitBytes + 1, limitBytes * 2).map((size) => `{"name":"${'a'.repeat(Math.max(0, size - 11))}"}`);
}
