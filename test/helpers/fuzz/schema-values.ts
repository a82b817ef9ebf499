// JSON Schema (as the OpenAPI document prints it) -> fast-check arbitrary of values that look valid:
// they follow the schema's types, patterns, enums and bounds (boundary values drawn often), and at
// every level a value may instead be hostile (hostile.ts), so both the validator's edges and the code
// behind it are reached.
import fc from 'fast-check';
import type { JsonSchema } from './operations.ts';
import { wrongValue, nastyString } from './hostile.ts';

export interface SchemaOptions {
  /** components.schemas of the document, for $ref */
  components?: Record<string, JsonSchema>;
  /** chance (0..1) that a value anywhere is replaced by a hostile one */
  hostility?: number;
  /** only values the schema accepts (bounds included), so the code behind validation is reached */
  strict?: boolean;
  /** the property the value is for: some free strings have a meaning the schema does not say (HINTS) */
  key?: string;
}

/**
 * Values with meaning for free-form strings, by property name: policy peers, endpoints, paths,
 * commands. Random text would almost never be one, and the code that interprets them (the policy
 * compiler, the Nebula config writer) would go unfuzzed.
 */
const HINTS: Record<string, string[]> = {
  to: [
    'lan',
    'mesh',
    'internet',
    'node:web',
    'node:a',
    'node:constructor',
    'node:__proto__',
    'node:',
    'owner:alice',
    'owner:constructor',
    'group:x',
    '198.18.0.0/15',
    '0.0.0.0/0',
    '10.0.0.1/32',
    '1.2.3.4/33',
    '300.1.1.1/8',
    'LAN',
    ' lan',
  ],
  from: ['lan', 'mesh', 'internet', 'node:web', 'node:a', 'node:constructor', 'owner:alice', 'group:x', '198.18.0.0/15', '0.0.0.0/0', '100.64.0.0/10', '::/0'],
  endpoint: ['198.18.0.1:4242', '198.18.0.1:0', '198.18.0.1:99999', 'evil.example:4242', '[::1]:4242', 'a:b', ':4242', '198.18.0.1', `${'x'.repeat(250)}:1`],
  path: ['/data', '/', '/var/lib/app', '/../../etc', '/proc', '/dev/zero', 'relative/path', '/a\nb', `/${'a'.repeat(1000)}`],
  run: ['sleep 1', 'echo hi', 'true', '$(id)', 'a\nb'],
  address: ['100.64.0.1', '198.18.0.1', 'not-an-address', '100.64.0.1/10'],
};

const MAX_ITEMS = 4;

function resolve(schema: JsonSchema, options: SchemaOptions): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const name = ref.replace(/^#\/components\/schemas\//, '');
  return options.components?.[name] ?? {};
}

function regexOf(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

function stringValue(s: JsonSchema, strict: boolean): fc.Arbitrary<string> {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : 64;
  const re = typeof s.pattern === 'string' ? regexOf(s.pattern) : undefined;
  const fits = (v: string) => v.length >= min && v.length <= max;
  const plain = re ? fc.stringMatching(re).filter(fits) : fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 64) });
  // Exactly at the bounds, and one past them (built, not drawn: maxLength may be 1 MiB).
  const edges = fc.constantFrom(...new Set([min, Math.max(0, min - 1), max, max + 1].filter((n) => n <= 2_000_000))).map((n) => 'a'.repeat(n));
  if (strict) return re ? plain : fc.oneof({ weight: 6, arbitrary: plain }, { weight: 1, arbitrary: fc.constantFrom(min, max).map((n) => 'a'.repeat(n)) });
  return fc.oneof({ weight: 6, arbitrary: plain }, { weight: 1, arbitrary: edges }, { weight: 1, arbitrary: nastyString });
}

function numberValue(s: JsonSchema, integer: boolean, strict: boolean): fc.Arbitrary<number> {
  const min = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : -1e6;
  const max = typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : 1e6;
  const inside = integer ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true });
  const edges = fc.constantFrom(min, max, min - 1, max + 1, min + 0.5, 0, -1, 2 ** 53, -(2 ** 53));
  if (strict) return inside;
  return fc.oneof({ weight: 5, arbitrary: inside }, { weight: 2, arbitrary: edges });
}

function objectValue(s: JsonSchema, options: SchemaOptions, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const entries = Object.entries(props).map(([key, sub]) => {
    const value = valueFor(sub, { ...options, key }, depth + 1);
    // An optional property is left out half the time; a required one now and then (it must be refused).
    const presence =
      required.has(key) && options.strict
        ? fc.constant(true)
        : required.has(key)
          ? fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) })
          : fc.boolean();
    return fc.tuple(fc.constant(key), presence, value);
  });
  // Free-form maps (env, labels): ordinary keys and the ones that break naive code.
  const mapKey = fc.oneof(
    fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,11}$/),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'PATH', 'LD_PRELOAD', 'A=B', 'A B', ''),
  );
  const extra =
    s.additionalProperties && typeof s.additionalProperties === 'object'
      ? fc.dictionary(mapKey, valueFor(s.additionalProperties as JsonSchema, options, depth + 1), { maxKeys: MAX_ITEMS })
      : options.strict
        ? fc.constant({})
        : fc.oneof({ weight: 9, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), wrongValue, { maxKeys: 2 }) });
  return fc.tuple(fc.tuple(...entries), extra).map(([picked, more]) => {
    const out: Record<string, unknown> = {};
    for (const [key, present, value] of picked) if (present) out[key] = value;
    // defineProperty: a key named __proto__ is sent as an ordinary key, as a hostile client would.
    for (const [key, value] of Object.entries(more)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

function validLooking(schema: JsonSchema, options: SchemaOptions, depth: number): fc.Arbitrary<unknown> {
  const s = resolve(schema, options);
  const hints = options.key !== undefined && s.type === 'string' ? HINTS[options.key] : undefined;
  if (hints) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...hints) }, { weight: 1, arbitrary: stringValue(s, options.strict === true) });
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if ('const' in s) return fc.constant(s.const);
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => valueFor(a, options, depth)));
  if (depth > 6) return fc.constant(null);
  switch (s.type) {
    case 'string':
      return stringValue(s, options.strict === true);
    case 'integer':
      return numberValue(s, true, options.strict === true);
    case 'number':
      return numberValue(s, false, options.strict === true);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = typeof s.minItems === 'number' ? s.minItems : 0;
      const maxItems = typeof s.maxItems === 'number' ? s.maxItems : MAX_ITEMS;
      const items = s.items && typeof s.items === 'object' ? valueFor(s.items as JsonSchema, options, depth + 1) : wrongValue;
      const usual = fc.array(items, { minLength, maxLength: Math.max(minLength, Math.min(maxItems, MAX_ITEMS)) });
      // One more than allowed, when that is cheap to build.
      const tooMany = maxItems <= 1100 ? items.map((v) => Array.from({ length: maxItems + 1 }, () => v)) : usual;
      return options.strict ? usual : fc.oneof({ weight: 8, arbitrary: usual }, { weight: 1, arbitrary: tooMany });
    }
    case 'object':
      return objectValue(s, options, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values for a schema: mostly valid-looking, sometimes hostile at any level. */
export function valueFor(schema: JsonSchema, options: SchemaOptions = {}, depth = 0): fc.Arbitrary<unknown> {
  if (options.strict) return validLooking(schema, options, depth);
  const hostility = options.hostility ?? 0.15;
  const weightHostile = Math.round(hostility * 100);
  return fc.oneof({ weight: 100 - weightHostile, arbitrary: validLooking(schema, options, depth) }, { weight: weightHostile, arbitrary: wrongValue });
}
