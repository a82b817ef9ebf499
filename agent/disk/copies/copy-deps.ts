// What the copies need of the station: the disk room's narrow views (agent/disk/deps.ts), narrowed
// further to the settings they read and the mesh's facts and peers (never its caller check), so a
// test hands them no more than that.
import type { Config } from '../../config/schema.ts';
import type { DiskDeps, DiskMesh, DiskNodes } from '../deps.ts';

export type CopyNodes = DiskNodes;

export type CopyMesh = Pick<DiskMesh, 'info' | 'peers'>;

export interface CopyDeps extends Omit<DiskDeps, 'config' | 'mesh'> {
  config: Pick<Config, 'stateDir' | 'httpPort' | 'diskPeerLostSeconds' | 'diskCheckSeconds'>;
  mesh: CopyMesh;
}
