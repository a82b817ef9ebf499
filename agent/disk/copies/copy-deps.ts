// What the copies need of the station, narrowed: the disk room (agent/disk/disk-subsystem.ts) hands
// its DiskDeps, which fits this shape. Declared here rather than imported from the room, so the part
// and the room that builds it do not import each other.
import type { Config } from '../../config/schema.ts';
import type { EventBus } from '../../events.ts';
import type { Runner } from '../../exec.ts';
import type { Logger } from '../../log.ts';
import type { MeshInfo } from '../../mesh/mesh-info.ts';
import type { PeerView } from '../../mesh/peers.ts';
import type { NodeView } from '../../nodes/view.ts';
import type { VolumeDriver } from '../../storage/driver.ts';

export interface CopyNodes {
  list(): NodeView[];
  volumeDriver(): VolumeDriver | null;
}

export interface CopyMesh {
  info(): MeshInfo;
  peers(): PeerView[];
}

export interface CopyDeps {
  config: Pick<Config, 'stateDir' | 'httpPort' | 'diskPeerLostSeconds' | 'diskCheckSeconds'>;
  run: Runner;
  events: EventBus;
  log: Logger;
  nodes: CopyNodes;
  mesh: CopyMesh;
}
