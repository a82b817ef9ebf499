// Send/receive for the btrfs driver: a read-only snapshot as a `btrfs send` stream (whole, or the
// changes since a parent the receiver holds) and `btrfs receive` of such a stream into a volume's
// snapshots. A received stream comes from another station, so it is confined (--chroot) to the
// volume's snapshot directory, and what it made is checked before it counts: exactly one entry, a
// snapshot name we accept, read-only with a received UUID (btrfs sets both only once the whole
// stream arrived), and for an incremental stream a parent that is one of this volume's snapshots.
// Anything else, and any failure or cut-off stream, is deleted again.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConflictError, ExecError, NotFoundError, ValidationError } from '../errors.ts';
import type { SendOptions, VolumeRef } from './driver.ts';
import { isBtrfsSubvolume } from './btrfs-fs.ts';
import type { BtrfsTool } from './btrfs-tool.ts';
import { checkRef, checkSnapshotName, describe, isSnapshotName, type VolumeLayout } from './layout.ts';
import { receiveFailure } from './parsers.ts';

export async function requireSnapshot(layout: VolumeLayout, ref: VolumeRef, name: string): Promise<string> {
  const path = layout.snapshotPath(ref, name);
  if (!(await isBtrfsSubvolume(path))) throw new NotFoundError('SNAPSHOT_NOT_FOUND', `volume ${describe(ref)} has no snapshot ${name}`);
  return path;
}

export async function sendSnapshot(
  tool: BtrfsTool,
  layout: VolumeLayout,
  ref: VolumeRef,
  name: string,
  to: Writable,
  options: SendOptions = {},
): Promise<void> {
  checkRef(ref);
  checkSnapshotName(name);
  if (options.parent !== undefined) checkSnapshotName(options.parent);
  const path = await requireSnapshot(layout, ref, name);
  const parent = options.parent === undefined ? undefined : await requireSnapshot(layout, ref, options.parent);
  await tool.send(path, to, parent);
}

export class SnapshotReceiver {
  private readonly busy = new Set<string>();
  private readonly tool: BtrfsTool;
  private readonly layout: VolumeLayout;

  constructor(tool: BtrfsTool, layout: VolumeLayout) {
    this.tool = tool;
    this.layout = layout;
  }

  async receive(ref: VolumeRef, from: Readable): Promise<{ snapshot: string }> {
    checkRef(ref);
    const key = describe(ref);
    // what a receive made is found by comparing the directory before and after: one at a time per volume
    if (this.busy.has(key)) throw new ConflictError('VOLUME_BUSY', `volume ${key} is already receiving a snapshot`);
    this.busy.add(key);
    try {
      return await this.receiveInto(ref, from);
    } finally {
      this.busy.delete(key);
    }
  }

  private async receiveInto(ref: VolumeRef, from: Readable): Promise<{ snapshot: string }> {
    const dir = this.layout.snapshotDir(ref);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const before = new Set(await readdir(dir));
    const added = async () => (await readdir(dir)).filter((entry) => !before.has(entry));
    try {
      await this.tool.receive(dir, from);
    } catch (error) {
      // the original error says more than a failed clean-up would
      await this.remove(dir, await added()).catch(() => undefined);
      throw explain(error, ref);
    }
    const made = await added();
    const name = made[0];
    const problem =
      made.length !== 1
        ? `the stream made ${made.length} entries, not one snapshot`
        : !isSnapshotName(name!)
          ? `the stream's snapshot name ${JSON.stringify(name)} is not one this station accepts`
          : await this.problemWith(ref, join(dir, name!));
    if (problem) {
      await this.remove(dir, made);
      throw new ValidationError('INVALID_SNAPSHOT_STREAM', `received stream for ${describe(ref)} rejected: ${problem}`);
    }
    return { snapshot: name! };
  }

  private async problemWith(ref: VolumeRef, path: string): Promise<string | null> {
    if (!(await isBtrfsSubvolume(path))) return 'what arrived is not a subvolume';
    const info = await this.tool.show(path);
    if (!info.readonly || !info.receivedUuid) return 'the snapshot is not complete (not read-only, no received UUID)';
    if (!info.parentUuid) return null; // a whole stream
    // btrfs finds an incremental stream's parent by UUID anywhere on the pool: it must be one of this
    // volume's snapshots, or the stream would copy another volume's data into this one
    const here = dirname(info.path);
    const siblings = (await this.tool.listSubvolumes(path)).filter((s) => dirname(s.path) === here && s.path !== info.path);
    if (siblings.some((s) => s.uuid === info.parentUuid)) return null;
    return `its parent ${info.parentUuid} is not a snapshot of ${describe(ref)}`;
  }

  private async remove(dir: string, entries: string[]): Promise<void> {
    for (const entry of entries) {
      const path = join(dir, entry);
      if (await isBtrfsSubvolume(path)) await this.tool.deleteSubvolume(path);
      else await rm(path, { recursive: true, force: true });
    }
  }
}

function explain(error: unknown, ref: VolumeRef): unknown {
  if (!(error instanceof ExecError)) return error;
  const why = receiveFailure(error.stderr);
  if (why === 'exists') return new ConflictError('SNAPSHOT_EXISTS', `volume ${describe(ref)} already has the snapshot this stream carries`);
  if (why === 'missing-parent') {
    return new NotFoundError('SNAPSHOT_PARENT_MISSING', `volume ${describe(ref)} here lacks the parent snapshot of this incremental stream: send it whole`);
  }
  return error;
}
