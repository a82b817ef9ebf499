// Failures the fuzzer finds today in code that is being fixed right now (issue 11). Each one is
// listed with the finding it belongs to, so the suite stays honest: a known failure is counted and
// reported on every run, any other failure fails the test, and a known failure that no longer
// happens is reported too (remove it here then).
import type { FuzzRequest } from './requests.ts';
import { checkAnswer, type Answer, type Violation } from './invariants.ts';
import { groupOf, type Operation } from './operations.ts';
import { send, pathOf } from './send.ts';
import type { FuzzTarget } from './fuzzer.ts';

/** What a known failure may depend on besides the request: the subsystems this station runs without, its state files. */
export interface StationShape { disabled: string[]; stateFile: (name: string) => string }

export interface KnownFailure {
  id: string;
  /** the smallest request that shows it, replayed by the suite: when it stops failing, remove the entry */
  repro: { station: 'default' | 'live'; method: string; url: string; payload?: string; token?: boolean };
  /** where it is being fixed, and what a user sees */
  area: string;
  matches: (op: Operation, req: FuzzRequest, violation: Violation, res: Answer, station: StationShape) => boolean;
}

export const KNOWN_FAILURES: KnownFailure[] = [
  {
    id: 'mesh-routes-500-when-mesh-disabled',
    repro: { station: 'default', method: 'GET', url: '/api/v1/mesh' },
    area: 'agent/mesh/mesh-subsystem.ts: with the mesh subsystem off (STATION_DISABLE=mesh) its state document is never '
      + 'loaded, so GET /mesh, /mesh/peers, /mesh/directory and POST /mesh/leave, /mesh/peers/NAME/revoke, /mesh/authority/export '
      + 'throw "mesh.json used before load()": 500 INTERNAL instead of 503 MESH_UNAVAILABLE',
    matches: (op, _req, v, res, station) => station.disabled.includes('mesh') && op.group === 'mesh' && v.kind === 'server-error'
      && res.statusCode === 500 && /"code":"INTERNAL"/.test(res.body),
  },
  {
    id: 'node-named-constructor',
    // (the read: POST /api/v1/nodes/constructor/stop with the token shows the rest, but breaks the station it runs on)
    repro: { station: 'live', method: 'GET', url: '/api/v1/nodes/constructor' },
    area: 'agent/nodes/service.ts (and the other lookups of node records by name): records live in a plain object, so the '
      + 'name "constructor" (a valid DNS label) finds Object.prototype.constructor. GET /nodes/constructor and /stats answer '
      + '500 without a token; POST /nodes {"name":"constructor"} says 409 NODE_EXISTS; with the token, POST '
      + '/nodes/constructor/stop (or start, DELETE) answers 500 AND saves a broken "constructor" record in nodes.json, after '
      + 'which GET /nodes, GET /status and every node list answer 500, across restarts, until the file is edited by hand',
    matches: (op, req, v, _res, station) => (v.kind === 'server-error' || v.kind === 'state-changed')
      && ((op.group === 'nodes' && /\/nodes\/constructor(\/|$|\?)/.test(req.url)) || /"constructor"\s*:/.test(station.stateFile('nodes.json'))),
  },
];

/** Replays a known failure's request; true when it still fails as listed. */
export async function reproduces(known: KnownFailure, target: FuzzTarget): Promise<boolean> {
  const op: Operation = { method: known.repro.method, path: known.repro.url, group: groupOf(known.repro.url), pathParams: [], queryParams: [], body: undefined, needsToken: false, hidden: false };
  const req: FuzzRequest = {
    method: known.repro.method, route: known.id, url: known.repro.url, payload: known.repro.payload, credential: known.repro.token ? 'admin' : 'none',
    headers: { host: 'localhost', ...(known.repro.payload !== undefined ? { 'content-type': 'application/json' } : {}), ...(known.repro.token ? { authorization: `Bearer ${target.token}` } : {}) },
    host: 'own', origin: 'none', remoteAddress: '127.0.0.1',
  };
  const res = await send(target.app, req);
  const shape: StationShape = { disabled: target.disabled, stateFile: () => '' };
  return checkAnswer(req, res, { token: target.token, secrets: target.secrets, rootPath: target.rootPath, pathOf }, false)
    .some((v) => knownFailure(op, req, v, res, shape)?.id === known.id);
}

export function knownFailure(op: Operation, req: FuzzRequest, violation: Violation, res: Answer, station: StationShape): KnownFailure | undefined {
  return KNOWN_FAILURES.find((k) => k.matches(op, req, violation, res, station));
}
