// What the copies keeper's unit tests give it, doubles named as such: station s1 of owner alice in a
// mesh that is up, whose peers the test lists, and a runner that runs no program (a run that gets as
// far as restic fails there, after placement).
import type { CopyDeps } from '../../../../../agent/disk/copies/copy-deps.ts';
import type { EventBus } from '../../../../../agent/events.ts';
import { createLogger } from '../../../../../agent/log.ts';
import type { PeerView } from '../../../../../agent/mesh/peers.ts';

export function keeperDeps(o: { stateDir: string; events: EventBus; nodes: CopyDeps['nodes']; peers: () => PeerView[] }): CopyDeps {
  return {
    config: { stateDir: o.stateDir, httpPort: 8088, diskPeerLostSeconds: 3600, diskCheckSeconds: 0 },
    run: async (argv) => {
      throw new Error(`no program is run here (asked for ${argv[0]})`);
    },
    events: o.events,
    log: createLogger('silent', false),
    nodes: o.nodes,
    mesh: { info: () => ({ state: 'up', owner: 'alice', name: 's1' }) as ReturnType<CopyDeps['mesh']['info']>, peers: o.peers },
  };
}
