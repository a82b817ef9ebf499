// Response serializers (and request validators) compiled on a route's first use instead of all at start-up. Fastify's
// default compiles one fast-json-stringify function per route and status code when the app starts
// (~50 of them here, tens of KB of generated source each); an idle station answers a handful of
// routes, so the rest would only sit in memory. The compiler is Fastify's own, with the same shared
// schemas; only the moment changes. A schema the compiler rejects now fails on that route's first
// reply (500) rather than at start-up: test/unit/api/serializers.test.ts compiles every one.
// Validators likewise (Fastify's Ajv compiler, same options), on a route's first request.
import { createRequire } from 'node:module';

type Serialize = (data: unknown) => string;
type CompileArgs = { schema: unknown; method: string; url: string; httpStatus: string; contentType?: string };
type Compile = (args: CompileArgs) => Serialize;
type BuildSerializer = (externalSchemas: unknown, options: unknown) => Compile;

// Fastify's default serializer factory (a dependency of fastify, resolved from it).
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const SerializerSelector = fromFastify('@fastify/fast-json-stringify-compiler') as () => BuildSerializer;
const ValidatorSelector = fromFastify('@fastify/ajv-compiler') as () => BuildValidator;

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type BuildValidator = (externalSchemas: unknown, options: unknown) => (args: unknown) => Validate;

/**
 * Fastify's compiler factory `build` made lazy: each function it would compile now is compiled on its
 * first call instead. `stand` makes what Fastify holds meanwhile from `now` (compiles once, then the
 * same function); `compileAll` compiles what is still pending (tests); `compiled` counts.
 */
function compileOnFirstUse<A, F>(
  build: (externalSchemas: unknown, options: unknown) => (args: A) => F,
  stand: (now: () => F) => F,
): { factory: (externalSchemas: unknown, options: unknown) => (args: A) => F; compiled: () => number; compileAll: () => void } {
  let count = 0;
  const pending = new Set<() => F>();
  const factory = (externalSchemas: unknown, options: unknown) => {
    const compile = build(externalSchemas, options);
    return (args: A) => {
      let fn: F | undefined;
      const now = (): F => {
        if (fn === undefined) {
          fn = compile(args);
          count++;
          pending.delete(now);
        }
        return fn;
      };
      pending.add(now);
      return stand(now);
    };
  };
  return {
    factory,
    compiled: () => count,
    compileAll: () => {
      for (const c of [...pending]) c();
    },
  };
}

/** For Fastify's `schemaController.compilersFactory.buildValidator`; Fastify reads `errors` off the function after a call, as Ajv sets it. */
export function lazyValidators(): { buildValidator: BuildValidator; compiled: () => number; compileAll: () => void } {
  const { factory, compiled, compileAll } = compileOnFirstUse<unknown, Validate>(ValidatorSelector(), (now) => {
    const lazy: Validate = (data) => {
      const fn = now();
      const result = fn(data);
      lazy.errors = fn.errors;
      return result;
    };
    return lazy;
  });
  return { buildValidator: factory, compiled, compileAll };
}

/** For Fastify's `schemaController.compilersFactory.buildSerializer`. `compiled` counts compilations (tests). */
export function lazySerializers(): { buildSerializer: BuildSerializer; compiled: () => number; compileAll: () => void } {
  const { factory, compiled, compileAll } = compileOnFirstUse<CompileArgs, Serialize>(SerializerSelector(), (now) => (data) => now()(data));
  return { buildSerializer: factory, compiled, compileAll };
}
