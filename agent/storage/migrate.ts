// Directory volumes (ROOT/<node>/<volume> made by the dir driver and by versions before the storage
// room) moved into btrfs subvolumes, on the pool or in place where the state directory is btrfs.
// The copy is the engines' work: `cp -a -x --reflink=auto` (owners, modes, times, ACLs, xattrs,
// hard links, sparse files; a reflink where source and target share a btrfs) into a new subvolume,
// then `rsync -aHAXS --checksum --dry-run --itemize-changes` must find nothing to change.
//
// Crash-safe in three steps, each a rename (atomic) between copies that are whole:
//   1. copy into TO/<node>/.migrating-<volume> (a subvolume) and verify it;
//   2. rename the source to FROM/<node>/.migrated-<volume>: from here on the verified copy counts;
//   3. rename the copy to TO/<node>/<volume>, then delete the retired source.
// recover() at the next start finishes a migration that passed step 2 and undoes one that did not:
// a node never finds its volume missing or half-copied. The node is stopped before its volumes are
// copied (a running node would keep writing to the old directory).
import { mkdir, readdir, rename, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, UnavailableError } from '../errors.ts';
import type { Runner } from '../exec.ts';
import { isBtrfsSubvolume } from './btrfs-fs.ts';
import { BtrfsTool } from './btrfs-tool.ts';
import type { VolumeRef } from './driver.ts';
import { describe, LABEL, VolumeLayout } from './layout.ts';
import { parseDuBytes } from './parsers.ts';

// never DNS labels, so listVolumes skips them
export const STAGED = '.migrating-';
export const RETIRED = '.migrated-';
const COPY_MS = 6 * 3_600_000;

export interface MigrationOptions {
  /** where directory volumes are (stateDir/volumes) */
  from: string;
  /** the btrfs driver's root: the pool's volumes directory, or `from` itself (in place) */
  to: string;
  run: Runner;
  /** stops the node if it runs (its volumes are copied next); throws if it cannot */
  stopNode: (node: string) => Promise<void>;
  /** told after each volume moved */
  onMoved?: (ref: VolumeRef) => void;
  /** for crash tests only: throwing here leaves the disk as a SIGKILL at that point would */
  crashPoint?: (point: 'retired' | 'placed') => void;
}

const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => null)) !== null;

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
}

export class VolumeMigration {
  private readonly from: VolumeLayout;
  private readonly to: VolumeLayout;
  private readonly options: MigrationOptions;
  private readonly tool: BtrfsTool;

  constructor(options: MigrationOptions) {
    this.options = options;
    this.from = new VolumeLayout(options.from);
    this.to = new VolumeLayout(options.to);
    this.tool = new BtrfsTool(options.run, COPY_MS);
  }

  private get inPlace(): boolean {
    return this.options.from === this.options.to;
  }

  /** Finishes (past step 2) or undoes (before it) every migration a crash cut short. */
  async recover(): Promise<void> {
    for (const node of (await entries(this.from.root)).filter((n) => LABEL.test(n))) {
      for (const entry of (await entries(this.from.nodeDir(node))).filter((e) => e.startsWith(RETIRED))) {
        const ref = { node, volume: entry.slice(RETIRED.length) };
        const retired = join(this.from.nodeDir(node), entry);
        const target = this.to.volumePath(ref);
        const staged = this.stagedPath(ref);
        if (await isBtrfsSubvolume(target)) {
          // step 3 done but for deleting the old directory
        } else if (await isBtrfsSubvolume(staged)) {
          await rename(staged, target); // verified before the source was retired
        } else {
          await rename(retired, this.from.volumePath(ref)); // no copy to stand in: the source comes back
          continue;
        }
        await rm(retired, { recursive: true, force: true });
      }
      await this.from.pruneEmpty({ node, volume: 'x' });
    }
    if (!this.inPlace) await rmdir(this.from.root).catch(() => undefined); // only when empty
    // a copy never verified (or whose source was not retired): made again from the source
    for (const node of (await entries(this.to.root)).filter((n) => LABEL.test(n))) {
      for (const entry of (await entries(this.to.nodeDir(node))).filter((e) => e.startsWith(STAGED))) {
        await this.deleteStaged(join(this.to.nodeDir(node), entry));
      }
    }
  }

  /** Directory volumes still to move, sorted. ConflictError when a volume is in both places. */
  async pending(): Promise<VolumeRef[]> {
    const found: VolumeRef[] = [];
    for (const ref of await this.from.list()) {
      const source = this.from.volumePath(ref);
      if (this.inPlace) {
        if (!(await isBtrfsSubvolume(source))) found.push(ref);
        continue;
      }
      if (await exists(this.to.volumePath(ref))) {
        throw new ConflictError(
          'VOLUME_MIGRATION_CONFLICT',
          `volume ${describe(ref)} is both a directory at ${source} and on the pool at ${this.to.volumePath(ref)}: ` +
            'move one of them away (nothing was changed)',
        );
      }
      found.push(ref);
    }
    return found;
  }

  /** Bytes the volumes take (du), to check they fit before anything moves. */
  async bytes(refs: VolumeRef[]): Promise<number> {
    let total = 0;
    for (const ref of refs)
      total += parseDuBytes((await this.options.run(['du', '-s', '-x', '-B1', this.from.volumePath(ref)], { timeoutMs: COPY_MS })).stdout);
    return total;
  }

  /** Moves every pending volume, node by node, each node stopped first. Returns what moved. */
  async migrate(refs: VolumeRef[]): Promise<VolumeRef[]> {
    const moved: VolumeRef[] = [];
    const nodes = [...new Set(refs.map((r) => r.node))];
    for (const node of nodes) {
      await this.options.stopNode(node);
      for (const ref of refs.filter((r) => r.node === node)) {
        await this.moveOne(ref);
        moved.push(ref);
      }
      await this.from.pruneEmpty({ node, volume: 'x' });
    }
    if (!this.inPlace) await rmdir(this.from.root).catch(() => undefined); // only when empty
    return moved;
  }

  private stagedPath(ref: VolumeRef): string {
    return join(this.to.nodeDir(ref.node), `${STAGED}${ref.volume}`);
  }

  private async moveOne(ref: VolumeRef): Promise<void> {
    const { run } = this.options;
    const source = this.from.volumePath(ref);
    const staged = this.stagedPath(ref);
    const retired = join(this.from.nodeDir(ref.node), `${RETIRED}${ref.volume}`);
    await mkdir(this.to.nodeDir(ref.node), { recursive: true, mode: 0o700 });
    await this.tool.createSubvolume(staged);
    try {
      // SOURCE/. into the new subvolume: the volume's root directory takes the source's owner, mode and xattrs too
      await run(['cp', '-a', '-x', '--reflink=auto', `${source}/.`, `${staged}/`], { timeoutMs: COPY_MS });
      const diff = await run(
        ['rsync', '-aHAXS', '-x', '--numeric-ids', '--checksum', '--dry-run', '--itemize-changes', '--delete', `${source}/`, `${staged}/`],
        { timeoutMs: COPY_MS },
      );
      if (diff.stdout.trim()) {
        throw new UnavailableError('VOLUME_MIGRATION_MISMATCH', `the copy of ${describe(ref)} differs from ${source}: ${diff.stdout.trim().slice(0, 300)}`);
      }
    } catch (error) {
      await this.deleteStaged(staged).catch(() => undefined);
      throw error;
    }
    await rename(source, retired);
    this.options.crashPoint?.('retired');
    await rename(staged, this.to.volumePath(ref));
    this.options.crashPoint?.('placed');
    await rm(retired, { recursive: true, force: true });
    this.options.onMoved?.(ref);
  }

  private async deleteStaged(path: string): Promise<void> {
    if (await isBtrfsSubvolume(path)) await this.tool.deleteSubvolume(path);
    else await rm(path, { recursive: true, force: true });
  }
}

/** Free bytes for a writer where `path` is (statfs). */
export async function freeBytesAt(path: string): Promise<number> {
  const fs = await statfs(path);
  return fs.bavail * fs.bsize;
}
