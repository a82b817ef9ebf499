// The fuzzer: for one route group, fast-check draws requests for its routes, sends each into the
// app, checks the invariants (invariants.ts) and, when a request was refused, that the station's
// state did not change (snapshot.ts). A failing request is shrunk to a small one that still fails,
// recorded, and the run goes on with the next seed until the group's request budget is spent, so
// one run reports every distinct finding (route x kind), not just the first.
import fc from 'fast-check';
import type { Operation } from './operations.ts';
import { requestFor, describe, type FuzzRequest } from './requests.ts';
import { checkAnswer, type Answer, type Violation, type CheckContext } from './invariants.ts';
import { snapshot, differences } from './snapshot.ts';
import { send, wireForm, pathOf } from './send.ts';
import { knownFailure, type StationShape } from './known-failures.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type { FuzzTarget };
import type { FuzzTarget } from './target.ts';

export interface Finding {
  group: string;
  route: string;
  kinds: string[];
  violations: Violation[];
  /** the shrunk request, as sent (token replaced by <admin-token>) */
  request: Record<string, unknown>;
  response: { statusCode: number; body: string };
  seed: number;
  shrinks: number;
}

export interface GroupResult {
  group: string;
  routes: string[];
  /** requests fast-check drew and sent (shrinking not included) */
  requests: number;
  /** every request sent, shrinking included */
  sent: number;
  ms: number;
  statuses: Record<string, number>;
  /** per route, the answers' status codes and error codes: shows how deep the requests reached */
  byRoute: Record<string, Record<string, number>>;
  findings: Finding[];
  known: Record<string, number>;
}

const MAX_FINDINGS_PER_GROUP = 40;

interface Outcome {
  violations: Violation[];
  fresh: Violation[];
  answer: Answer;
}

export async function fuzzGroup(
  target: FuzzTarget,
  group: string,
  ops: Operation[],
  options: { requests: number; seed: number; log?: (line: string) => void },
): Promise<GroupResult> {
  const started = Date.now();
  const result: GroupResult = {
    group,
    routes: ops.map((o) => `${o.method} ${o.path}`),
    requests: 0,
    sent: 0,
    ms: 0,
    statuses: {},
    byRoute: {},
    findings: [],
    known: {},
  };
  let session: string | undefined;
  const arb = fc.oneof(...ops.map((op) => requestFor(op, target.facts, { token: target.token, session: () => session }).map((req) => ({ op, req }))));
  const ctx: CheckContext = { token: target.token, secrets: target.secrets, rootPath: target.rootPath, pathOf };
  const seen = new Set<string>();
  const signature = (op: Operation, v: Violation) => `${op.method} ${op.path} ${v.kind}`;
  let drawing = true;
  let last: { op: Operation; req: FuzzRequest; outcome: Outcome } | undefined;

  const shape: StationShape = {
    disabled: target.disabled,
    stateFile: (name) => {
      try {
        return readFileSync(join(target.stateDir, name), 'utf8');
      } catch {
        return '';
      }
    },
  };

  async function exercise(op: Operation, req: FuzzRequest): Promise<Outcome> {
    const wire = wireForm(req);
    const before = await snapshot(target.system, target.stateDir);
    let answer: Answer;
    const violations: Violation[] = [];
    try {
      answer = await send(target.app, req);
    } catch (error) {
      answer = { statusCode: 0, headers: {}, body: '' };
      violations.push({ kind: 'no-answer', reason: (error as Error).message });
    }
    result.sent++;
    if (drawing) {
      result.statuses[answer.statusCode] = (result.statuses[answer.statusCode] ?? 0) + 1;
      const route = (result.byRoute[`${op.method} ${op.path}`] ??= {});
      const code = /^\{"error":\{"code":"([A-Z_]+)"/.exec(answer.body)?.[1];
      const key = code ? `${answer.statusCode} ${code}` : String(answer.statusCode);
      route[key] = (route[key] ?? 0) + 1;
    }
    const needsToken = op.needsToken && (wire.method === op.method || (op.method === 'GET' && wire.method === 'HEAD'));
    const headTwin = wire.method === 'HEAD' && answer.statusCode >= 500 ? await send(target.app, { ...req, method: 'GET' }).catch(() => undefined) : undefined;
    if (answer.statusCode) violations.push(...checkAnswer(wire, answer, ctx, needsToken, headTwin));
    if (answer.statusCode >= 400 || answer.statusCode === 0) {
      const changed = differences(before, await snapshot(target.system, target.stateDir));
      if (changed.length) violations.push({ kind: 'state-changed', reason: changed.slice(0, 5).join('; ') });
    }
    // A pairing session handed out is used as a credential by later requests.
    if (answer.statusCode === 200 && pathOf(wire.url) === '/api/v1/pairing/session') {
      try {
        session = (JSON.parse(answer.body) as { token?: string }).token ?? session;
      } catch {
        /* not JSON: checked above */
      }
    }
    // A HEAD has no body: its GET twin's says what the failure was.
    const judged = headTwin && headTwin.statusCode === answer.statusCode ? { ...answer, body: headTwin.body } : answer;
    const fresh: Violation[] = [];
    for (const v of violations) {
      const known = knownFailure(op, wire, v, judged, shape);
      if (known) {
        if (drawing) result.known[known.id] = (result.known[known.id] ?? 0) + 1;
      } else if (!seen.has(signature(op, v))) {
        fresh.push(v);
      }
    }
    return { violations, fresh, answer };
  }

  let remaining = options.requests;
  let round = 0;
  while (remaining > 0 && result.findings.length < MAX_FINDINGS_PER_GROUP) {
    const seed = options.seed + round++;
    let drawn = 0;
    drawing = true;
    const details = await fc.check(
      fc.asyncProperty(arb, async ({ op, req }) => {
        if (drawing) drawn++;
        const outcome = await exercise(op, req);
        if (outcome.fresh.length) {
          last = { op, req, outcome };
          drawing = false; // from here on fast-check is shrinking
          return false;
        }
        return true;
      }),
      { seed, numRuns: remaining, verbose: 0 },
    );
    result.requests += drawn;
    remaining -= drawn;
    if (!details.failed) break;
    // The property itself broke (not a finding): say so rather than stop quietly.
    if (!last) throw new Error(`fuzzing ${group} failed: ${String(details.errorInstance ?? 'no failing request recorded')}`);
    const { op, req, outcome } = last;
    for (const v of outcome.fresh) seen.add(signature(op, v));
    const finding: Finding = {
      group,
      route: `${op.method} ${op.path}`,
      kinds: [...new Set(outcome.fresh.map((v) => v.kind))],
      violations: outcome.fresh,
      request: describe(wireForm(req), target.token),
      response: { statusCode: outcome.answer.statusCode, body: outcome.answer.body.slice(0, 400) },
      seed,
      shrinks: details.numShrinks,
    };
    result.findings.push(finding);
    options.log?.(`[${group}] finding: ${finding.route} ${finding.kinds.join(',')} -> ${finding.response.statusCode} (seed ${seed})`);
    last = undefined;
  }
  result.ms = Date.now() - started;
  return result;
}
