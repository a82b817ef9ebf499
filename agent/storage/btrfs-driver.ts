// The btrfs driver: a volume is a subvolume at ROOT/<node>/<volume> (the dir driver's path, so a node
// mounts it the same way), its limit a qgroup limit on referenced bytes (measured: a 64 MiB limit
// stops a write at 64 MiB with EDQUOT, while `df` inside the node still shows the whole pool), its
// snapshots read-only subvolumes under ROOT/.snapshots. ROOT is on the state directory's btrfs or
// on a loop-backed pool (pool.ts). Usage figures are btrfs's as of its last commit (at most ~30 s old).
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConflictError, ExecError, UnavailableError } from '../errors.ts';
import { exec, type Runner } from '../exec.ts';
import type {
  ArmedSnapshot,
  CreateVolumeOptions,
  DriverCapability,
  OpenSnapshotOptions,
  SendOptions,
  SnapshotInfo,
  VolumeDriver,
  VolumeRef,
  VolumeUsage,
} from './driver.ts';
import { isBtrfs, isBtrfsSubvolume, nearestExisting } from './btrfs-fs.ts';
import { BtrfsTool } from './btrfs-tool.ts';
import { requireSnapshot, sendSnapshot, SnapshotReceiver } from './btrfs-transfer.ts';
import { checkQuota, checkRef, checkSnapshotName, describe, LaidOutVolumes, volumeNotFound } from './layout.ts';

export interface BtrfsDriverOptions {
  /** A directory on btrfs: stateDir/volumes, or a directory on the loop-backed pool. */
  root: string;
  run?: Runner;
  /** Longest a send or receive may run (default 6 h): streams of big volumes over a slow link take long. */
  streamTimeoutMs?: number;
}

// during a rollback the old and new contents sit beside the volume under these names (never DNS labels)
const RESTORING = '.restore-';
const REPLACED = '.old-';

export class BtrfsVolumeDriver extends LaidOutVolumes implements VolumeDriver {
  readonly name = 'btrfs' as const;
  readonly supports = { quotas: true, snapshots: true, transfer: true };
  private readonly tool: BtrfsTool;
  private readonly receiver: SnapshotReceiver;

  constructor(options: BtrfsDriverOptions) {
    super(options.root);
    this.tool = new BtrfsTool(options.run ?? exec, options.streamTimeoutMs ?? 6 * 3_600_000);
    this.receiver = new SnapshotReceiver(this.tool, this.layout);
  }

  async capability(): Promise<DriverCapability> {
    let version: string;
    try {
      version = await this.tool.version();
    } catch (error) {
      const missing = error instanceof ExecError && error.exitCode === null;
      const why = missing ? `btrfs-progs are not installed (${error.message})` : `btrfs --version failed (${(error as Error).message})`;
      return { available: false, reason: `${why}: no volume quotas, snapshots or send/receive` };
    }
    const on = await nearestExisting(this.layout.root);
    if (!(await isBtrfs(on))) {
      return { available: false, reason: `${this.layout.root} is not on a btrfs file system (${on} is not): a loop-backed pool is needed` };
    }
    return { available: true, reason: `btrfs-progs ${version}: volumes are subvolumes under ${this.layout.root}, limits are qgroups` };
  }

  async prepare(): Promise<void> {
    await mkdir(this.layout.root, { recursive: true, mode: 0o700 });
    if (!(await isBtrfs(this.layout.root))) throw new UnavailableError('STORAGE_NOT_BTRFS', `${this.layout.root} is not on btrfs`);
    await this.tool.enableQuotas(this.layout.root);
    await this.finishInterruptedRestores();
  }

  // ---- volumes ----

  async createVolume(ref: VolumeRef, options: CreateVolumeOptions = {}): Promise<void> {
    checkRef(ref);
    if (options.quotaBytes !== undefined) checkQuota(options.quotaBytes);
    if (await this.layout.exists(ref)) throw new ConflictError('VOLUME_EXISTS', `volume ${describe(ref)} already exists`);
    await mkdir(this.layout.nodeDir(ref.node), { recursive: true, mode: 0o700 });
    const path = this.layout.volumePath(ref);
    await this.tool.createSubvolume(path);
    if (options.quotaBytes !== undefined) await this.undoOnFailure(path, () => this.tool.limit(path, options.quotaBytes!));
  }

  async deleteVolume(ref: VolumeRef): Promise<void> {
    await this.layout.requireVolume(ref);
    for (const name of await this.layout.snapshotNames(ref)) await this.tool.deleteSubvolume(this.layout.snapshotPath(ref, name));
    const path = this.layout.volumePath(ref);
    // a plain directory here was made by the dir driver before the switch
    if (await isBtrfsSubvolume(path)) await this.deleteTree(path);
    else await rm(path, { recursive: true, force: true });
    await this.layout.pruneEmpty(ref);
  }

  async volumeUsage(ref: VolumeRef): Promise<VolumeUsage> {
    const path = await this.requireSubvolume(ref);
    const own = (await this.tool.qgroups(path, true)).filter((row) => row.level === 0);
    if (own.length !== 1) throw new Error(`btrfs qgroup show -f ${path}: expected the volume's own qgroup, got ${own.length}`);
    return { usedBytes: own[0]!.referenced, quotaBytes: own[0]!.maxReferenced };
  }

  async setVolumeQuota(ref: VolumeRef, quotaBytes: number | null): Promise<void> {
    checkRef(ref);
    if (quotaBytes !== null) checkQuota(quotaBytes);
    await this.tool.limit(await this.requireSubvolume(ref), quotaBytes);
  }

  // ---- snapshots ----

  async createSnapshot(ref: VolumeRef, name: string): Promise<void> {
    const { path, target } = await this.snapshotPaths(ref, name);
    await this.tool.snapshot(path, target, true);
  }

  async armSnapshot(ref: VolumeRef, name: string): Promise<ArmedSnapshot> {
    const { path, target } = await this.snapshotPaths(ref, name);
    return this.tool.armSnapshot(path, target);
  }

  private async snapshotPaths(ref: VolumeRef, name: string): Promise<{ path: string; target: string }> {
    checkSnapshotName(name);
    const path = await this.requireSubvolume(ref);
    const target = this.layout.snapshotPath(ref, name);
    if (await stat(target).catch(() => null)) throw new ConflictError('SNAPSHOT_EXISTS', `volume ${describe(ref)} already has a snapshot ${name}`);
    await mkdir(this.layout.snapshotDir(ref), { recursive: true, mode: 0o700 });
    return { path, target };
  }

  async listSnapshots(ref: VolumeRef): Promise<SnapshotInfo[]> {
    checkRef(ref);
    const names = await this.layout.snapshotNames(ref);
    if (!names.length) return [];
    // qgroup rows carry top-level-relative paths: learn where this volume's snapshots sit in them
    const fsDir = dirname((await this.tool.show(this.layout.snapshotPath(ref, names[0]!))).path);
    const rows = new Map((await this.tool.qgroups(this.layout.root)).map((row) => [row.path, row]));
    const list: SnapshotInfo[] = [];
    for (const name of names) {
      const path = this.layout.snapshotPath(ref, name);
      const [info, row] = [await stat(path).catch(() => null), rows.get(fsDir === '.' ? name : `${fsDir}/${name}`)];
      if (!info || !row) continue; // deleted meanwhile
      list.push({ name, createdAt: info.birthtime.toISOString(), referencedBytes: row.referenced, exclusiveBytes: row.exclusive });
    }
    return list.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }

  async deleteSnapshot(ref: VolumeRef, name: string): Promise<void> {
    checkRef(ref);
    checkSnapshotName(name);
    await this.tool.deleteSubvolume(await requireSnapshot(this.layout, ref, name));
    // the last snapshot of a copy received here (no volume of its own): nothing of it stays
    if (!(await this.layout.exists(ref))) await this.layout.pruneEmpty(ref);
  }

  async restoreSnapshot(ref: VolumeRef, name: string): Promise<void> {
    checkSnapshotName(name);
    const path = await this.requireSubvolume(ref);
    const snapshot = await requireSnapshot(this.layout, ref, name);
    const { quotaBytes } = await this.volumeUsage(ref);
    const staged = join(this.layout.nodeDir(ref.node), `${RESTORING}${ref.volume}`);
    const replaced = join(this.layout.nodeDir(ref.node), `${REPLACED}${ref.volume}`);
    if (await isBtrfsSubvolume(staged)) await this.tool.deleteSubvolume(staged);
    await this.tool.snapshot(snapshot, staged, false);
    // the snapshot's limit is the one it was taken with: the volume keeps its current one
    await this.undoOnFailure(staged, () => this.tool.limit(staged, quotaBytes));
    // two renames, not one atomic swap: prepare() finishes or undoes a pair a crash left behind
    await rename(path, replaced);
    try {
      await rename(staged, path);
    } catch (error) {
      await rename(replaced, path);
      throw error;
    }
    await this.deleteTree(replaced);
  }

  async volumeFromSnapshot(ref: VolumeRef, name: string, target: VolumeRef, options: OpenSnapshotOptions = {}): Promise<void> {
    checkRef(ref);
    checkRef(target);
    checkSnapshotName(name);
    const { quotaBytes } = options;
    if (typeof quotaBytes === 'number') checkQuota(quotaBytes);
    const snapshot = await requireSnapshot(this.layout, ref, name);
    if (await this.layout.exists(target)) throw new ConflictError('VOLUME_EXISTS', `volume ${describe(target)} already exists`);
    await mkdir(this.layout.nodeDir(target.node), { recursive: true, mode: 0o700 });
    const path = this.layout.volumePath(target);
    await this.tool.snapshot(snapshot, path, false);
    if (quotaBytes !== undefined) await this.undoOnFailure(path, () => this.tool.limit(path, quotaBytes));
  }

  snapshotSource(ref: VolumeRef, name: string): string {
    checkRef(ref);
    checkSnapshotName(name);
    return this.layout.snapshotPath(ref, name);
  }

  // ---- send/receive (btrfs-transfer.ts) ----

  sendSnapshot(ref: VolumeRef, name: string, to: Writable, options?: SendOptions): Promise<void> {
    return sendSnapshot(this.tool, this.layout, ref, name, to, options);
  }

  receiveSnapshot(ref: VolumeRef, from: Readable): Promise<{ snapshot: string }> {
    return this.receiver.receive(ref, from);
  }

  // ---- inside ----

  private async requireSubvolume(ref: VolumeRef): Promise<string> {
    checkRef(ref);
    const path = this.layout.volumePath(ref);
    if (await isBtrfsSubvolume(path)) return path;
    if (await this.layout.exists(ref)) {
      throw new ConflictError('VOLUME_NOT_SUBVOLUME', `volume ${describe(ref)} is a plain directory (made by the dir driver): move it into a subvolume first`);
    }
    throw volumeNotFound(ref);
  }

  /** Runs a step after `path` was made; if the step fails, `path` goes again (nothing half-made stays). */
  private async undoOnFailure(path: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      await this.tool.deleteSubvolume(path).catch(() => undefined);
      throw error;
    }
  }

  /** Deletes a subvolume and any a node made inside it (by id, so no path inside the volume is followed). */
  private async deleteTree(path: string): Promise<void> {
    const first = await this.tool.deleteSubvolume(path).then(
      () => null,
      (error: unknown) => error,
    );
    if (!first) return;
    const own = (await this.tool.show(path)).path;
    const nested = (await this.tool.listSubvolumes(this.layout.root)).filter((s) => s.path.startsWith(`${own}/`));
    if (!nested.length) throw first;
    // --subvolid wants any subvolume of the file system as its path: the volume itself is one
    for (const sub of nested.sort((a, b) => b.path.length - a.path.length)) await this.tool.deleteSubvolumeById(sub.id, path);
    await this.tool.deleteSubvolume(path);
  }

  /** A rollback cut short by a crash: keep the new contents if they made it into place, else the old. */
  private async finishInterruptedRestores(): Promise<void> {
    for (const node of await readdir(this.layout.root).catch(() => [])) {
      const dir = this.layout.nodeDir(node);
      const entries = await readdir(dir).catch(() => []);
      for (const entry of entries.filter((e) => e.startsWith(REPLACED))) {
        const volume = join(dir, entry.slice(REPLACED.length));
        if (await stat(volume).catch(() => null)) await this.deleteTree(join(dir, entry));
        else await rename(join(dir, entry), volume);
      }
      for (const entry of entries.filter((e) => e.startsWith(RESTORING))) await this.deleteTree(join(dir, entry));
    }
  }
}
