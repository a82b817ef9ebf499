// Sends one fuzz request into the app (app.inject: no socket) as Node's HTTP parser would have
// handed it over: header values as latin1 text without control characters, the URL in printable
// ASCII (a real client percent-encodes the rest). The event stream is read until its greeting and
// then closed, as a browser that navigates away would.
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { FuzzRequest } from './requests.ts';
import type { Answer } from './invariants.ts';

const TIMEOUT_MS = 20_000;

export function pathOf(url: string): string {
  return url.split('?')[0]!;
}

/** What arrives after Node's parser: UTF-8 bytes read as latin1, control characters refused (here: dropped), trimmed. */
function asParsedHeader(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')
    .trim();
}

/** Printable ASCII only; everything else percent-encoded as UTF-8, as fetch and curl send it. */
function asSentUrl(url: string): string {
  return url.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c.isWellFormed() ? c : '\ufffd'));
}

export function wireForm(req: FuzzRequest): FuzzRequest {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, asParsedHeader(v)]));
  return { ...req, url: asSentUrl(req.url), headers };
}

async function streamed(app: FastifyInstance, options: InjectOptions): Promise<Answer> {
  const controller = new AbortController();
  const res = await app.inject({ ...options, payloadAsStream: true, signal: controller.signal } as InjectOptions);
  let body = '';
  try {
    // A HEAD gets the stream's headers and no body: nothing more will come.
    if (options.method === 'HEAD' && res.statusCode === 200) return { statusCode: res.statusCode, headers: res.headers, body };
    for await (const chunk of res.stream()) {
      body += String(chunk);
      // The greeting and any replayed events (Last-Event-ID) arrive at once; the rest would never end.
      if (res.statusCode === 200 && body.includes(': connected\n\n')) break;
    }
  } finally {
    (res.raw.res as unknown as { destroy(): void }).destroy();
    controller.abort();
  }
  return { statusCode: res.statusCode, headers: res.headers, body };
}

export async function send(app: FastifyInstance, raw: FuzzRequest): Promise<Answer> {
  const req = wireForm(raw);
  const options: InjectOptions = {
    method: req.method as InjectOptions['method'],
    url: req.url,
    headers: req.headers,
    remoteAddress: req.remoteAddress,
    ...(req.payload !== undefined ? { payload: req.payload } : {}),
  };
  const isEvents = (req.method === 'GET' || req.method === 'HEAD') && pathOf(req.url) === '/api/v1/events';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      isEvents ? streamed(app, options) : app.inject(options).then((res) => ({ statusCode: res.statusCode, headers: res.headers, body: res.body })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
