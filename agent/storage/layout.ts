// Where volumes and snapshots sit under a driver's root, and the name checks every driver runs
// first. The volume path is today's convention, kept exactly so volumes made before the storage
// room are found: ROOT/<node>/<volume> (ROOT is stateDir/volumes). Snapshots sit beside them in
// ROOT/.snapshots/<node>/<volume>/<name>; a node name is a DNS label, so no node is called
// ".snapshots", and names never carry "/" or "..", so no path leaves ROOT.
import { readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { VolumeRef } from './driver.ts';

// the node spec's label (agent/nodes/spec.ts NODE_NAME_PATTERN); repeated so storage needs nothing from nodes
export const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// time stamps fit (2026-12-04T14.39.16Z, daily-3); no "/", and no leading "." so ".." cannot pass
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const SNAPSHOTS_DIR = '.snapshots';
// one exabyte: far above any disk, below 2^53 so a quota stays an exact number in JSON
const MAX_QUOTA = 2 ** 60;
const MIN_QUOTA = 1024 * 1024;

export function checkRef(ref: VolumeRef): void {
  if (!ref || typeof ref.node !== 'string' || !LABEL.test(ref.node)) {
    throw new ValidationError('INVALID_VOLUME_NAME', `node name ${JSON.stringify(ref?.node)} is not a DNS label (a-z, 0-9, -)`);
  }
  if (typeof ref.volume !== 'string' || !LABEL.test(ref.volume)) {
    throw new ValidationError('INVALID_VOLUME_NAME', `volume name ${JSON.stringify(ref.volume)} is not a DNS label (a-z, 0-9, -)`);
  }
}

export function checkSnapshotName(name: string): void {
  if (typeof name !== 'string' || !SNAPSHOT_NAME.test(name)) {
    throw new ValidationError('INVALID_SNAPSHOT_NAME', `snapshot name ${JSON.stringify(name)} must be 1-100 of A-Z a-z 0-9 . _ - and not start with . _ or -`);
  }
}

export const isSnapshotName = (name: string): boolean => SNAPSHOT_NAME.test(name);

export function checkQuota(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < MIN_QUOTA || bytes > MAX_QUOTA) {
    throw new ValidationError('INVALID_QUOTA', `quota ${bytes} must be a whole number of bytes from 1 MiB to 1 EiB`);
  }
}

export const describe = (ref: VolumeRef): string => `${ref.node}/${ref.volume}`;

export const volumeNotFound = (ref: VolumeRef) => new NotFoundError('VOLUME_NOT_FOUND', `volume ${describe(ref)} does not exist`);

const isDirectory = async (path: string): Promise<boolean> => (await stat(path).catch(() => null))?.isDirectory() ?? false;

async function labelDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && LABEL.test(e.name))
    .map((e) => e.name)
    .sort();
}

export class VolumeLayout {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  nodeDir(node: string): string {
    return join(this.root, node);
  }

  volumePath(ref: VolumeRef): string {
    return join(this.root, ref.node, ref.volume);
  }

  snapshotDir(ref: VolumeRef): string {
    return join(this.root, SNAPSHOTS_DIR, ref.node, ref.volume);
  }

  snapshotPath(ref: VolumeRef, name: string): string {
    return join(this.snapshotDir(ref), name);
  }

  exists(ref: VolumeRef): Promise<boolean> {
    return isDirectory(this.volumePath(ref));
  }

  /** The path of a volume that must be there: VOLUME_NOT_FOUND otherwise. */
  async requireVolume(ref: VolumeRef): Promise<string> {
    checkRef(ref);
    if (!(await this.exists(ref))) throw volumeNotFound(ref);
    return this.volumePath(ref);
  }

  async list(node?: string): Promise<VolumeRef[]> {
    const nodes = node === undefined ? await labelDirs(this.root) : [node];
    const refs: VolumeRef[] = [];
    for (const n of nodes) for (const volume of await labelDirs(this.nodeDir(n))) refs.push({ node: n, volume });
    return refs;
  }

  /** Snapshot names present on disk (entries with other names are not ours and are skipped). */
  async snapshotNames(ref: VolumeRef): Promise<string[]> {
    const entries = await readdir(this.snapshotDir(ref), { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && SNAPSHOT_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /** After a volume went: drops its snapshot directory and the node's directories once empty. */
  async pruneEmpty(ref: VolumeRef): Promise<void> {
    const dirs = [this.snapshotDir(ref), join(this.root, SNAPSHOTS_DIR, ref.node), join(this.root, SNAPSHOTS_DIR), this.nodeDir(ref.node)];
    for (const dir of dirs)
      await rmdir(dir).catch(() => {
        /* not empty or not there: keep it */
      });
  }
}

/** The part of a VolumeDriver that every driver keeping its volumes in a VolumeLayout answers alike: the names
 * checked first, then the layout read. The dir and btrfs drivers extend it. */
export abstract class LaidOutVolumes {
  protected readonly layout: VolumeLayout;
  constructor(root: string) {
    this.layout = new VolumeLayout(root);
  }

  async volumeExists(ref: VolumeRef): Promise<boolean> {
    checkRef(ref);
    return this.layout.exists(ref);
  }

  async listVolumes(node?: string): Promise<VolumeRef[]> {
    if (node !== undefined) checkRef({ node, volume: 'x' });
    return this.layout.list(node);
  }

  mountSource(ref: VolumeRef): string {
    checkRef(ref);
    return this.layout.volumePath(ref);
  }
}
