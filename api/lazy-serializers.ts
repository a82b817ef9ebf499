// Response serializers compiled on a route's first reply instead of all at start-up. Fastify's
// default compiles one fast-json-stringify function per route and status code when the app starts
// (~50 of them here, tens of KB of generated source each); an idle station answers a handful of
// routes, so the rest would only sit in memory. The compiler is Fastify's own, with the same shared
// schemas; only the moment changes. A schema the compiler rejects now fails on that route's first
// reply (500) rather than at start-up: test/unit/api/serializers.test.ts compiles every one.
import { createRequire } from 'node:module';

type Serialize = (data: unknown) => string;
type CompileArgs = { schema: unknown; method: string; url: string; httpStatus: string; contentType?: string };
type Compile = (args: CompileArgs) => Serialize;
type BuildSerializer = (externalSchemas: unknown, options: unknown) => Compile;

// Fastify's default serializer factory (a dependency of fastify, resolved from it).
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const SerializerSelector = fromFastify('@fastify/fast-json-stringify-compiler') as () => BuildSerializer;

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. `compiled` counts compilations (tests). */
export function lazySerializers(): { buildSerializer: BuildSerializer; compiled: () => number; compileAll: () => void } {
  const build = SerializerSelector();
  let count = 0;
  const pending = new Set<() => void>();
  const buildSerializer: BuildSerializer = (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    return (args) => {
      let serialize: Serialize | undefined;
      const now = () => { if (!serialize) { serialize = compile(args); count++; pending.delete(now); } return serialize; };
      pending.add(now);
      return (data) => now()(data);
    };
  };
  return { buildSerializer, compiled: () => count, compileAll: () => { for (const c of [...pending]) c(); } };
}
