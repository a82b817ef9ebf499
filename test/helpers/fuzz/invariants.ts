// What must hold for every response, whatever was sent. Each check returns the violations it saw
// (a kind and a short reason), so the fuzzer can name a finding and fast-check can shrink to it.
import type { FuzzRequest } from './requests.ts';

export type ViolationKind =
  | 'server-error' // a 5xx that is not a documented "not available here" answer
  | 'error-shape' // a 4xx/5xx whose body is not { error: { code, message } }
  | 'stack-or-path' // a stack trace, a source file or the checkout's path in a body
  | 'secret' // the admin token (or another secret) in a body or header
  | 'state-changed' // a refused request changed what the station holds
  | 'foreign-host-served' // a foreign Host got an answer other than a refusal (DNS rebinding)
  | 'foreign-origin-changed' // a state-changing request from a foreign page was accepted
  | 'no-token-accepted' // a route that needs the token answered 2xx without a credential
  | 'no-answer'; // the request threw or never produced a response

export interface Violation {
  kind: ViolationKind;
  reason: string;
}

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * 503 is the station's documented answer when a feature cannot work here or is off: the subsystem
 * is disabled or not started (NODES/MESH/WIFI/PAIRING_UNAVAILABLE), the first hardware detection is
 * still running, every event stream place is taken, or a station the request depends on cannot be
 * reached (joining). They carry the error shape and a message written for people; anything else
 * in 5xx (500 INTERNAL, ENGINE errors, a 503 with another code) is a finding.
 */
export const DOCUMENTED_503 = new Set([
  'NODES_UNAVAILABLE',
  'MESH_UNAVAILABLE',
  'WIFI_UNAVAILABLE',
  'PAIRING_UNAVAILABLE',
  'HARDWARE_NOT_DETECTED',
  'EVENT_STREAMS_FULL',
  'MESH_INVITER_UNREACHABLE',
  'MESH_NO_ENDPOINT',
  // Infinite Disk's parts when off (no btrfs, no mesh, not started): each says why
  'SNAPSHOTS_UNAVAILABLE',
  'DISK_COPIES_OFF',
  'DISK_RESTORE_OFF',
  'DISK_STORE_OFF',
  'POOL_NOT_GROWABLE',
  // replicas turned off (STATION_DISABLE)
  'REPLICAS_UNAVAILABLE',
  // orchestrators turned off (STATION_DISABLE)
  'ORCHESTRATOR_UNAVAILABLE',
]);

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HEALTH = '/api/v1/health';

function errorCode(body: string): { code: string; message: string } | undefined {
  try {
    const e = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof e?.code === 'string' && typeof e.message === 'string' && e.code.length > 0 ? { code: e.code, message: e.message } : undefined;
  } catch {
    return undefined;
  }
}

/** Marks of a leaked stack or source location. The checkout's own path is added by the caller. */
const STACK_MARKS: RegExp[] = [/\n\s+at [^\n]+:\d+:\d+/, /node:internal/, /\.(ts|mjs|cjs):\d+/, /file:\/\/\//, /\bat (async )?[\w.<>]+ \(\/[^)]*\)/];

export interface CheckContext {
  token: string;
  /** other secrets that must never reach a caller without the token (CA key bodies, ...) */
  secrets: () => string[];
  /** the absolute path of the checkout: never in a body */
  rootPath: string;
  /** path the request reached, without the query: the health check is open to every Host */
  pathOf: (url: string) => string;
}

/**
 * `headTwin`: for a HEAD answered 5xx (no body to judge), the answer to the same request as GET,
 * whose error code says whether the 5xx is a documented one.
 */
export function checkAnswer(req: FuzzRequest, res: Answer, ctx: CheckContext, needsToken: boolean, headTwin?: Answer): Violation[] {
  const out: Violation[] = [];
  const path = ctx.pathOf(req.url);
  const status = res.statusCode;
  const err = errorCode(headTwin && headTwin.statusCode === status ? headTwin.body : res.body);
  const hasBody = req.method !== 'HEAD' && status !== 204 && status !== 304;

  if (status >= 500) {
    const readyNotReady = path === '/api/v1/ready' && status === 503 && /"ready":false/.test(res.body);
    if (!readyNotReady && !(status === 503 && err && DOCUMENTED_503.has(err.code)))
      out.push({ kind: 'server-error', reason: `${status} ${err?.code ?? res.body.slice(0, 120)}` });
  }
  if (status >= 400 && hasBody && !err && !(path === '/api/v1/ready' && status === 503)) {
    out.push({ kind: 'error-shape', reason: `${status} body is not {error:{code,message}}: ${res.body.slice(0, 160)}` });
  }
  for (const mark of [...STACK_MARKS, new RegExp(ctx.rootPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))]) {
    if (mark.test(res.body)) {
      out.push({ kind: 'stack-or-path', reason: `body matches ${mark}: ${excerpt(res.body, mark)}` });
      break;
    }
  }
  if (req.credential !== 'admin' && req.credential !== 'session') {
    const headerText = JSON.stringify(res.headers);
    for (const secret of [ctx.token, ...ctx.secrets()]) {
      if (secret && (res.body.includes(secret) || headerText.includes(secret)))
        out.push({
          kind: 'secret',
          reason: `a secret (${secret === ctx.token ? 'the admin token' : `${secret.slice(0, 6)}…`}) is in the answer`,
        });
    }
  }
  const served = status < 400;
  if (req.host === 'foreign' && served && !(path === HEALTH && (req.method === 'GET' || req.method === 'HEAD'))) {
    out.push({ kind: 'foreign-host-served', reason: `Host ${req.headers.host} got ${status}` });
  }
  if (req.origin === 'foreign' && served && MUTATING.has(req.method)) {
    out.push({ kind: 'foreign-origin-changed', reason: `Origin ${req.headers.origin} got ${status} on ${req.method}` });
  }
  const credentialed = req.credential === 'admin' || req.credential === 'session';
  if (needsToken && !credentialed && served && status !== 304) {
    out.push({ kind: 'no-token-accepted', reason: `${req.method} ${path} answered ${status} with credential ${req.credential}` });
  }
  return out;
}

function excerpt(text: string, mark: RegExp): string {
  const i = text.search(mark);
  return text.slice(Math.max(0, i - 60), i + 100).replace(/\s+/g, ' ');
}
