// The one place where failures become HTTP responses, always in the contract's shape:
// { "error": { "code", "message" } }. 5xx bodies say only that something failed; details go to the log.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isStationError, type ErrorKind, TooManyRequestsError, ExecError } from '../agent/errors.ts';

export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  capacity: 409,
  'too-many': 429,
  unavailable: 503,
  engine: 500,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const body = (code: string, message: string, details?: Record<string, unknown>): ErrorBody => ({
  error: details ? { code, message, details } : { code, message },
});

function fastifyClientError(error: FastifyError): { status: number; body: ErrorBody } | undefined {
  if (error.validation) {
    return { status: 400, body: body('INVALID_REQUEST', error.message) };
  }
  const status = error.statusCode ?? 500;
  if (status < 400 || status >= 500) return undefined;
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status, body: body('UNSUPPORTED_MEDIA_TYPE', error.message) };
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status, body: body('PAYLOAD_TOO_LARGE', error.message) };
  if (error.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError)
    return { status: 400, body: body('INVALID_JSON', `the request body is not valid JSON: ${error.message}`) };
  return { status, body: body('BAD_REQUEST', error.message) };
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isStationError(error)) {
    const status = STATUS_BY_KIND[error.kind];
    if (error instanceof TooManyRequestsError) reply.header('retry-after', String(error.retryAfterSeconds));
    if (status >= 500) {
      // A feature that is off (503) is expected and already explained by /status: no stack per request.
      if (error.kind === 'unavailable') request.log.debug({ code: error.code, url: request.url }, error.message);
      else
        request.log.error(
          {
            err: error,
            argv: error instanceof ExecError ? error.argv : undefined,
            stderr: error instanceof ExecError ? error.stderr : undefined,
          },
          'request failed',
        );
      const message =
        error.kind === 'engine'
          ? `an engine command failed${error instanceof ExecError ? ` (${error.argv[0]})` : ''}; the station log has the details`
          : error.kind === 'unavailable'
            ? error.message
            : 'internal error; the station log has the details';
      return reply.status(status).send(body(error.code, message));
    }
    return reply.status(status).send(body(error.code, error.message, error.facts));
  }
  const client = fastifyClientError(error);
  if (client) return reply.status(client.status).send(client.body);
  request.log.error({ err: error }, 'unexpected error');
  return reply.status(500).send(body('INTERNAL', 'internal error; the station log has the details'));
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.status(404).send(body('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
}

/**
 * A request Node refused before Fastify saw it (too slow to arrive, headers too large, not HTTP):
 * answered in the contract's shape, then the connection is closed (Fastify's default says
 * {"error":"Request Timeout",...}).
 */
export function handleClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HEADERS_TOO_LARGE', 'the request headers are too large']
        : [400, 'BAD_REQUEST', 'the request is not valid HTTP'];
  const text = JSON.stringify(body(code, message));
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ` +
        `${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
  socket.destroy();
}

/**
 * A URL Fastify's router refused before any route or hook (bad percent-encoding, an over-long path parameter), in the contract's
 * shape without echoing the URL.
 */
export function routerError(error: { code?: string }): { status: number; body: ErrorBody } {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return { status: 414, body: body('URI_TOO_LONG', 'a path parameter is too long') };
  if (error.code === 'FST_ERR_BAD_URL') return { status: 400, body: body('BAD_URL', 'the URL is not valid (malformed percent-encoding)') };
  return { status: 400, body: body('BAD_REQUEST', 'the request could not be routed') };
}

/** Refusal of a request for a name or address that is not the station's (DNS rebinding). */
export const HOST_NOT_ALLOWED: ErrorBody = body(
  'HOST_NOT_ALLOWED',
  'this station does not answer to that Host name; use its own name or address (or add it to STATION_HTTP_ALLOWED_HOSTS)',
);
