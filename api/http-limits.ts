// Bounds on what one HTTP client can hold of the station: how long a request may take to arrive,
// how long an idle connection is kept, how big a body may be, how many event streams may be open
// and how far behind one may fall. A LAN neighbour (or a rebound web page) must not be able to
// pin the agent's memory or sockets with slow or never-finished requests.

export interface HttpLimits {
  /** the whole request (headers and body) must arrive within this; the response may take longer (exec) */
  requestTimeoutMs: number;
  /** the headers must arrive within this */
  headersTimeoutMs: number;
  /** an idle keep-alive connection is closed after this */
  keepAliveTimeoutMs: number;
  /** how often Node looks for requests past their timeout */
  checkIntervalMs: number;
  /** largest request body: an exec input (1 MiB of text) with JSON's escaping fits */
  bodyLimitBytes: number;
  /** open /events streams at once; the next is refused with 503 until one closes */
  maxEventStreams: number;
  /** bytes an event stream may have waiting for a client that does not read; past it the client is dropped */
  maxEventBacklogBytes: number;
}

export const HTTP_LIMITS: Readonly<HttpLimits> = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 15_000,
  keepAliveTimeoutMs: 10_000,
  checkIntervalMs: 2_000,
  bodyLimitBytes: 2 * 1024 * 1024,
  maxEventStreams: 32,
  maxEventBacklogBytes: 1024 * 1024,
};

/** Fastify's server options for these limits. The socket's own idle timeout stays off: a long exec sends nothing for minutes. */
export function serverOptions(limits: HttpLimits): Record<string, unknown> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: 0,
    bodyLimit: limits.bodyLimitBytes,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
  };
}
