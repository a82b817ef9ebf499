// A copy store (agent/disk/store/peer-store.ts) as its unit tests build it: the real config, command
// runner and event bus, a logger whose lines the test reads, no nodes, and a mesh double (named as
// one: a unit test has no Nebula) whose facts and peers the test steers. Also the member records and
// peer views of the owner's other stations as the mesh would give them.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Config } from '../../agent/config/schema.ts';
import type { DiskDeps } from '../../agent/disk/deps.ts';
import { EventBus, type StationEvent } from '../../agent/events.ts';
import { exec } from '../../agent/exec.ts';
import type { MeshInfo } from '../../agent/mesh/mesh-info.ts';
import type { MemberRecord } from '../../agent/mesh/mesh-state.ts';
import type { PeerView } from '../../agent/mesh/peers.ts';

/** A station of the owner's mesh as its member record says (what grant and prune calls are checked against). */
export const member = (name: string, owner = 'alice'): MemberRecord => ({
  name,
  owner,
  address: '100.64.0.9',
  fingerprint: 'f',
  lighthouse: false,
  endpoints: [],
  apiPort: 8088,
  joinedAt: '2026-01-01T00:00:00Z',
});

/** A station of the owner's mesh as the peer list shows it: online, not revoked. */
export const peer = (name: string): PeerView => ({
  name,
  owner: 'alice',
  address: '100.64.0.9',
  lighthouse: false,
  online: true,
  lastHandshake: null,
  lastSeen: null,
  latencyMs: null,
  via: null,
  revoked: false,
  nodeSubnet: null,
  apiPort: 8088,
});

export interface StoreTestDeps {
  deps: DiskDeps;
  /** every event published, in order */
  events: StationEvent[];
  /** everything logged so far (debug and up) */
  logged: () => string;
}

/** The store's deps with this config and mesh double; its events and log lines collected for the test. */
export function storeDeps(config: Config, mesh: { info: () => MeshInfo; peers: () => PeerView[] }, events: StationEvent[] = []): StoreTestDeps {
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += chunk.toString();
      done();
    },
  });
  const deps: DiskDeps = {
    config,
    run: exec,
    events: bus,
    log: pino({ level: 'debug' }, sink),
    nodes: { list: () => [], volumeDriver: () => null },
    mesh: {
      ...mesh,
      identify: () => {
        throw new Error('not used here');
      },
    },
  };
  return { deps, events, logged: () => logged };
}
