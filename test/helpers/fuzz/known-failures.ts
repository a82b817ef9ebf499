// Failures the fuzzer finds today in code that is being fixed right now (issue 11). Each one is
// listed with the finding it belongs to, so the suite stays honest: a known failure is counted and
// reported on every run, any other failure fails the test, and a known failure that no longer
// happens is reported too (remove it here then).
import type { FuzzRequest } from './requests.ts';
import { checkAnswer, type Answer, type Violation } from './invariants.ts';
import { groupOf, type Operation } from './operations.ts';
import { send, pathOf } from './send.ts';
import type { FuzzTarget } from './target.ts';

/** What a known failure may depend on besides the request: the subsystems this station runs without, its state files. */
export interface StationShape {
  disabled: string[];
  stateFile: (name: string) => string;
}

export interface KnownFailure {
  id: string;
  /** the smallest request that shows it, replayed by the suite: when it stops failing, remove the entry */
  repro: { station: 'default' | 'live'; method: string; url: string; payload?: string; token?: boolean };
  /** where it is being fixed, and what a user sees */
  area: string;
  matches: (op: Operation, req: FuzzRequest, violation: Violation, res: Answer, station: StationShape) => boolean;
}

// Found by the fuzzer and fixed since (each now has its own test): the mesh routes answered 500
// with the mesh turned off (test/unit/api/mesh-off.test.ts); a node named "constructor" found
// Object.prototype.constructor and a stop saved a broken record (test/integration/api-nodes.test.ts).
export const KNOWN_FAILURES: KnownFailure[] = [];

/** Replays a known failure's request; true when it still fails as listed. */
export async function reproduces(known: KnownFailure, target: FuzzTarget): Promise<boolean> {
  const op: Operation = {
    method: known.repro.method,
    path: known.repro.url,
    group: groupOf(known.repro.url),
    pathParams: [],
    queryParams: [],
    body: undefined,
    needsToken: false,
    hidden: false,
  };
  const req: FuzzRequest = {
    method: known.repro.method,
    route: known.id,
    url: known.repro.url,
    payload: known.repro.payload,
    credential: known.repro.token ? 'admin' : 'none',
    headers: {
      host: 'localhost',
      ...(known.repro.payload !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(known.repro.token ? { authorization: `Bearer ${target.token}` } : {}),
    },
    host: 'own',
    origin: 'none',
    remoteAddress: '127.0.0.1',
  };
  const res = await send(target.app, req);
  const shape: StationShape = { disabled: target.disabled, stateFile: () => '' };
  return checkAnswer(req, res, { token: target.token, secrets: target.secrets, rootPath: target.rootPath, pathOf }, false).some(
    (v) => knownFailure(op, req, v, res, shape)?.id === known.id,
  );
}

export function knownFailure(op: Operation, req: FuzzRequest, violation: Violation, res: Answer, station: StationShape): KnownFailure | undefined {
  return KNOWN_FAILURES.find((k) => k.matches(op, req, violation, res, station));
}
