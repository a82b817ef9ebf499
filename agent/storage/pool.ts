// A loop-backed btrfs pool for stations whose state directory is not on btrfs: a sparse file (it
// takes only what is written), formatted once, mounted with `mount -o loop` (the loop device is
// set to detach itself on unmount), quotas on. ensure() is safe to call at every start: a pool
// already mounted at the mount point from this file is reused, a file already formatted is
// mounted as it is. The pool stays mounted when the agent stops: nodes keep running on it.
import { mkdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseMounts } from '../../hardware/parsers/mounts.ts';
import { ConflictError, UnavailableError, ValidationError } from '../errors.ts';
import { exec, type Runner } from '../exec.ts';
import { BtrfsTool } from './btrfs-tool.ts';
import { parseLoopDevices } from './parsers.ts';

export interface LoopPoolOptions {
  /** The pool file, e.g. stateDir/storage/pool.img (never on the pool itself). */
  file: string;
  /** Where the pool is mounted, e.g. stateDir/storage/pool. */
  mountPoint: string;
  /** Size of a new pool file (sparse); an existing one keeps its size until grow(). */
  sizeBytes: number;
  run?: Runner;
  /** File system label (shown by blkid and `btrfs filesystem show`). */
  label?: string;
}

export interface PoolState {
  mounted: boolean;
  /** the loop device, e.g. /dev/loop3, when mounted */
  device: string | null;
  /** the pool file's size (what the file system can grow to), null before it exists */
  sizeBytes: number | null;
}

// mkfs.btrfs 6.2 refuses less than 114294784 bytes per device; leave room above that
const MIN_POOL_BYTES = 128 * 1024 * 1024;
const MKFS_MS = 300_000;

export class LoopPool {
  readonly file: string;
  readonly mountPoint: string;
  private readonly sizeBytes: number;
  private readonly label: string;
  private readonly run: Runner;
  private readonly tool: BtrfsTool;

  constructor(options: LoopPoolOptions) {
    this.file = options.file;
    this.mountPoint = options.mountPoint;
    this.sizeBytes = options.sizeBytes;
    this.label = options.label ?? 'station-pool';
    this.run = options.run ?? exec;
    this.tool = new BtrfsTool(this.run, MKFS_MS);
  }

  async status(): Promise<PoolState> {
    const size = (await stat(this.file).catch(() => null))?.size ?? null;
    const device = await this.ourDevice();
    return { mounted: device !== null, device, sizeBytes: size };
  }

  /** Makes (first time), mounts (if not mounted) and enables quotas on the pool; returns its state. */
  async ensure(): Promise<PoolState & { created: boolean }> {
    checkSize(this.sizeBytes);
    let created = false;
    if (!(await this.ourDevice())) {
      const other = await this.mountAt();
      if (other) {
        throw new ConflictError(
          'POOL_MOUNT_POINT_BUSY',
          `${this.mountPoint} already has ${other.type} from ${other.source} mounted, not the pool ${this.file}`,
        );
      }
      if (!(await stat(this.file).catch(() => null))) {
        await this.makeFile();
        created = true;
      }
      await mkdir(this.mountPoint, { recursive: true, mode: 0o700 });
      await this.run(['mount', '-o', 'loop', this.file, this.mountPoint], { timeoutMs: MKFS_MS });
    }
    await this.tool.enableQuotas(this.mountPoint);
    return { ...(await this.status()), created };
  }

  /** Grows the pool file and the file system to `sizeBytes` (shrinking is refused: data could sit there). */
  async grow(sizeBytes: number): Promise<void> {
    checkSize(sizeBytes);
    const device = await this.ourDevice();
    if (!device) throw new UnavailableError('POOL_NOT_MOUNTED', `the pool ${this.file} is not mounted at ${this.mountPoint}`);
    const { size } = await stat(this.file);
    if (sizeBytes < size) throw new ValidationError('POOL_SHRINK', `the pool is ${size} bytes; it can grow, not shrink to ${sizeBytes}`);
    if (sizeBytes === size) return;
    await this.run(['truncate', '-s', String(sizeBytes), this.file]);
    // the loop device keeps its old size until told to look again; then btrfs takes the new space
    await this.run(['losetup', '--set-capacity', device]);
    await this.run(['btrfs', 'filesystem', 'resize', 'max', this.mountPoint], { timeoutMs: MKFS_MS });
  }

  /** Unmounts the pool and detaches its loop device (for tests and tools; the agent leaves it mounted). */
  async unmount(): Promise<void> {
    if (await this.ourDevice()) await this.run(['umount', this.mountPoint], { timeoutMs: MKFS_MS });
    // autoclear detaches on unmount, but not always at once: detach what is left explicitly
    for (const device of await this.loopDevices()) await this.run(['losetup', '-d', device], { allowFailure: true });
  }

  // ---- inside ----

  private async makeFile(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    // formatted under another name and renamed: a pool file that exists is always a whole file system
    const partial = `${this.file}.partial`;
    await rm(partial, { force: true });
    try {
      await this.run(['truncate', '-s', String(this.sizeBytes), partial]);
      await this.run(['mkfs.btrfs', '-q', '-L', this.label, partial], { timeoutMs: MKFS_MS });
      await rename(partial, this.file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /** The mount at the mount point (the last one wins where mounts are stacked), if any. */
  private async mountAt(): Promise<{ source: string; type: string } | null> {
    const target = await realpath(this.mountPoint).catch(() => this.mountPoint);
    const mounts = parseMounts(await readFile('/proc/self/mounts', 'utf8')).filter((m) => m.target === target);
    return mounts.at(-1) ?? null;
  }

  private async loopDevices(): Promise<string[]> {
    if (!(await stat(this.file).catch(() => null))) return [];
    const listed = await this.run(['losetup', '--json', '--list', '-O', 'NAME,BACK-FILE', '-j', this.file]);
    return parseLoopDevices(listed.stdout).map((d) => d.name);
  }

  /** The loop device when the mount point holds btrfs from this pool file, else null. */
  private async ourDevice(): Promise<string | null> {
    const mount = await this.mountAt();
    if (mount?.type !== 'btrfs') return null;
    return (await this.loopDevices()).includes(mount.source) ? mount.source : null;
  }
}

function checkSize(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < MIN_POOL_BYTES) {
    throw new ValidationError('INVALID_POOL_SIZE', `pool size ${bytes} must be a whole number of bytes, at least ${MIN_POOL_BYTES} (128 MiB)`);
  }
}
