// The OpenAPI document, made by @fastify/swagger from the routes' own schemas, when someone asks for
// it. The app notes every route it registers (method, URL, schema as the auth hook left it) and the
// shared schemas of each plugin; the first GET /api/openapi.json hands them to a throwaway Fastify
// instance with @fastify/swagger registered, and the document it produces is kept.
// Why not register the plugin on the app itself: the plugin and the YAML library it loads would
// then be resident for the agent's whole life (~1.5 MB of a station's idle memory, measured with
// the status bench) for a document a person reads now and then.
import Fastify from 'fastify';

// What routes may say about themselves for the document, besides what Fastify validates
// (@fastify/swagger reads these; its own type additions come with its import, which is lazy here).
declare module 'fastify' {
  interface FastifySchema {
    /** left out of the document (the page, the document itself) */
    hide?: boolean;
    summary?: string;
    description?: string;
    tags?: readonly string[];
    /** who may call it: [] for anyone, [{ bearer: [] }] for the admin token (set in app.ts) */
    security?: readonly Record<string, readonly string[]>[];
  }
}

export interface NotedRoute {
  method: string;
  url: string;
  schema?: Record<string, unknown>;
}

export interface DocumentInfo {
  info: { title: string; version: string; description?: string };
  securitySchemes?: Record<string, unknown>;
}

/** Fastify adds HEAD for every GET by itself; the document lists what the API declares. */
const UNDOCUMENTED_METHODS = new Set(['HEAD']);

/** Renders the document for these routes and shared schemas (keyed by $id) with @fastify/swagger. */
export async function renderOpenApi(
  routes: readonly NotedRoute[],
  sharedSchemas: Record<string, unknown>,
  info: DocumentInfo,
): Promise<Record<string, unknown>> {
  const { default: swagger } = await import('@fastify/swagger');
  const doc = Fastify({ exposeHeadRoutes: false });
  try {
    // The schemas were validated where they serve; here nothing is compiled.
    doc.setValidatorCompiler(() => () => true);
    doc.setSerializerCompiler(() => (data) => JSON.stringify(data));
    for (const schema of Object.values(sharedSchemas)) doc.addSchema(schema as { $id: string });
    await doc.register(swagger, {
      openapi: { openapi: '3.1.0', info: info.info, components: { securitySchemes: (info.securitySchemes ?? {}) as never } },
      // shared schemas are components named by their $id, referenced as #/components/schemas/NAME
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    for (const route of routes) {
      if (UNDOCUMENTED_METHODS.has(route.method)) continue;
      doc.route({ method: route.method as 'GET', url: route.url, schema: route.schema, handler: async () => null });
    }
    await doc.ready();
    return doc.swagger() as unknown as Record<string, unknown>;
  } finally {
    await doc.close();
  }
}

/** The document, rendered once on first use (the routes do not change after the app is built). */
export function openApiDocumentOnDemand(
  routes: readonly NotedRoute[],
  sharedSchemas: Record<string, unknown>,
  info: DocumentInfo,
): () => Promise<Record<string, unknown>> {
  let rendered: Promise<Record<string, unknown>> | undefined;
  return () => {
    rendered ??= renderOpenApi(routes, sharedSchemas, info).catch((error: unknown) => {
      rendered = undefined; // a failed render is tried again on the next request
      throw error;
    });
    return rendered;
  };
}
