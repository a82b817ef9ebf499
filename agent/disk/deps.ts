// The disk room's narrow views of the rest of the station, and the life every part of it has. Its
// own file so the parts (snapshots, store, copies) need nothing from the room that builds them.
import type { Config } from '../config/schema.ts';
import type { EventBus } from '../events.ts';
import type { Runner } from '../exec.ts';
import type { Logger } from '../log.ts';
import type { MeshInfo } from '../mesh/mesh-info.ts';
import type { MemberRecord } from '../mesh/mesh-state.ts';
import type { PeerView } from '../mesh/peers.ts';
import type { NodeView } from '../nodes/view.ts';
import type { VolumeDriver } from '../storage/driver.ts';
import type { SubsystemHealth } from '../subsystem.ts';

/** What Infinite Disk needs of the nodes. */
export interface DiskNodes {
  /** every node, with its spec and state */
  list(): NodeView[];
  /** the volume driver nodes mount from; null while the nodes are off */
  volumeDriver(): VolumeDriver | null;
}

/** What Infinite Disk needs of the mesh. */
export interface DiskMesh {
  info(): MeshInfo;
  peers(): PeerView[];
  /** the member of this owner's mesh calling the station-to-station API (ForbiddenError otherwise) */
  identify(remoteAddress: string, localAddress: string | undefined): MemberRecord;
}

export interface DiskDeps {
  config: Config;
  run: Runner;
  events: EventBus;
  log: Logger;
  nodes: DiskNodes;
  mesh: DiskMesh;
}

/** One part of the disk room: started in order, stopped in reverse, its health folded into the room's. */
export interface DiskPart {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): SubsystemHealth;
}
