// What the mesh's parts share: the state document, file paths, nebula-cert, the station config and
// the one way to bring Nebula in line with the state (apply).
import type { Config } from '../config/schema.ts';
import type { StateDocument } from '../store/document.ts';
import type { NebulaCert } from './nebula-cert.ts';
import type { MeshPaths, MeshState } from './mesh-state.ts';
import type { EventBus } from '../events.ts';

export interface MeshContext {
  doc: StateDocument<MeshState>;
  paths: MeshPaths;
  cert: NebulaCert;
  config: Config;
  events: EventBus;
  /** render the config from the state; reload (or start) Nebula when it changed */
  apply(): Promise<void>;
  now(): Date;
}
