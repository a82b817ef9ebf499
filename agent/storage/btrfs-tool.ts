// The btrfs-progs commands the storage room runs, each through the one command runner, with their
// output read by the pure parsers. Only argv is built here; what to do with it is the driver's job.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { ExecError, UnavailableError } from '../errors.ts';
import type { Runner } from '../exec.ts';
import {
  parseBtrfsVersion,
  parseQgroupShow,
  parseSubvolumeList,
  parseSubvolumeShow,
  quotasDisabled,
  type QgroupRow,
  type SubvolumeListEntry,
  type SubvolumeShow,
} from './parsers.ts';

// deleting or snapshotting is metadata work, quick even on a big volume; a rescan reads all metadata
const QUICK_MS = 120_000;
const RESCAN_MS = 3_600_000;

export class BtrfsTool {
  private readonly run: Runner;
  private readonly streamTimeoutMs: number;

  constructor(run: Runner, streamTimeoutMs: number) {
    this.run = run;
    this.streamTimeoutMs = streamTimeoutMs;
  }

  async version(): Promise<string> {
    return parseBtrfsVersion((await this.run(['btrfs', '--version'])).stdout);
  }

  async createSubvolume(path: string): Promise<void> {
    await this.run(['btrfs', 'subvolume', 'create', path], { timeoutMs: QUICK_MS });
  }

  async snapshot(source: string, target: string, readonly: boolean): Promise<void> {
    await this.run(['btrfs', 'subvolume', 'snapshot', ...(readonly ? ['-r'] : []), source, target], { timeoutMs: QUICK_MS });
  }

  /** A read-only snapshot whose program is started now (spawning is synchronous: it exists on
   * return) but waits for a word on its input: fire() sends it, disarm() ends the input unsaid. */
  armSnapshot(source: string, target: string): { fire(): Promise<void>; disarm(): Promise<void> } {
    const gate = new PassThrough();
    const argv = ['sh', '-c', 'read -r word && [ "$word" = go ] && exec btrfs subvolume snapshot -r "$0" "$1"', source, target];
    const done = this.run(argv, { stdinStream: gate, timeoutMs: QUICK_MS, allowFailure: true });
    return {
      fire: async () => {
        gate.end('go\n');
        const result = await done;
        if (result.exitCode !== 0)
          throw new ExecError(['btrfs', 'subvolume', 'snapshot', '-r', source, target], result.exitCode, result.stdout, result.stderr, false);
      },
      disarm: async () => {
        gate.end();
        await done.catch(() => undefined);
      },
    };
  }

  async deleteSubvolume(path: string): Promise<void> {
    await this.run(['btrfs', 'subvolume', 'delete', path], { timeoutMs: QUICK_MS });
  }

  /** By id (no path inside a node's volume is followed); `subvolume` is any subvolume of the same file system. */
  async deleteSubvolumeById(id: number, subvolume: string): Promise<void> {
    await this.run(['btrfs', 'subvolume', 'delete', '--subvolid', String(id), subvolume], { timeoutMs: QUICK_MS });
  }

  async show(path: string): Promise<SubvolumeShow> {
    return parseSubvolumeShow((await this.run(['btrfs', 'subvolume', 'show', path])).stdout);
  }

  /** Every subvolume of the file system: id, top-level-relative path, UUIDs (`btrfs subvolume list -u -q -R`). */
  async listSubvolumes(path: string): Promise<SubvolumeListEntry[]> {
    return parseSubvolumeList((await this.run(['btrfs', 'subvolume', 'list', '-u', '-q', '-R', path])).stdout);
  }

  /** Quotas on for the file system holding `path`; a no-op where they are on already. */
  async enableQuotas(path: string): Promise<'enabled' | 'already'> {
    const probe = await this.run(['btrfs', 'qgroup', 'show', path], { allowFailure: true });
    if (probe.exitCode === 0) return 'already';
    if (!quotasDisabled(probe.stderr)) throw new ExecError(probe.argv, probe.exitCode, probe.stdout, probe.stderr, false);
    await this.run(['btrfs', 'quota', 'enable', path], { timeoutMs: QUICK_MS });
    // usage figures are only right once the first scan of existing data is done
    await this.run(['btrfs', 'quota', 'rescan', '-W', path], { timeoutMs: RESCAN_MS });
    return 'enabled';
  }

  /** The qgroups of the file system (`follow`: only the one(s) of the subvolume at `path`). */
  async qgroups(path: string, follow = false): Promise<QgroupRow[]> {
    const result = await this.run(['btrfs', 'qgroup', 'show', '-re', '--raw', ...(follow ? ['-f'] : []), path], { allowFailure: true });
    if (result.exitCode !== 0 && quotasDisabled(result.stderr)) {
      throw new UnavailableError('STORAGE_QUOTAS_OFF', `btrfs quotas are off on the file system of ${path}: run the storage prepare step (btrfs quota enable)`);
    }
    if (result.exitCode !== 0) throw new ExecError(result.argv, result.exitCode, result.stdout, result.stderr, false);
    return parseQgroupShow(result.stdout);
  }

  /** Sets the limit on referenced bytes (what the volume holds, shared with snapshots or not); null clears it. */
  async limit(path: string, bytes: number | null): Promise<void> {
    await this.run(['btrfs', 'qgroup', 'limit', bytes === null ? 'none' : String(bytes), path], { timeoutMs: QUICK_MS });
  }

  /** Commits the file system's transaction, so qgroup figures include what was just written. */
  async sync(path: string): Promise<void> {
    await this.run(['btrfs', 'filesystem', 'sync', path], { timeoutMs: QUICK_MS });
  }

  async send(snapshot: string, to: Writable, parent?: string): Promise<void> {
    // -q: the "At subvol" line is noise on stderr; the stream itself goes to `to`
    await this.run(['btrfs', 'send', '-q', ...(parent ? ['-p', parent] : []), snapshot], {
      stdoutStream: to,
      timeoutMs: this.streamTimeoutMs,
    });
  }

  /**
   * Receives one snapshot into `dir`. -e: stop at the stream's end marker (a cut-off stream fails
   * instead of waiting for more); --chroot: the stream's paths cannot reach outside `dir`.
   */
  async receive(dir: string, from: Readable): Promise<void> {
    await this.run(['btrfs', 'receive', '-e', '--chroot', dir], { stdinStream: from, timeoutMs: this.streamTimeoutMs });
  }
}
