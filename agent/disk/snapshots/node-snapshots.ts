// A node's snapshot SETS: every volume of the node snapshotted at one instant under one name. The
// file system is synced first (outside the freeze: a snapshot flushes its volume's dirty data, which
// would otherwise happen while the node stands still), then the node is frozen, every volume is
// snapshotted in parallel, and it is thawed (measured here: sync first + parallel gives a 37 ms
// window against 70-81 ms for snapshots one after another). A stopped node, or one with a single
// volume (one btrfs snapshot is atomic by itself), is snapshotted without freezing.
// A set counts only once its record is written (set-records.ts); recover() at start removes what a
// killed agent left half made and thaws a node it left frozen.
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../errors.ts';
import type { Runner } from '../../exec.ts';
import type { Logger } from '../../log.ts';
import type { VolumeDriver, VolumeRef } from '../../storage/driver.ts';
import { checkRef, checkSnapshotName } from '../../storage/layout.ts';
import { isFrozen, MAX_FROZEN_MS, nodeCgroup, thaw, whileFrozen } from './freeze.ts';
import { parseSetName, SetRecords, setName, type SetRecord, type SnapshotKind } from './set-records.ts';
import { openSnapshotFile, type SnapshotFile } from './snapshot-file.ts';

export interface SnapshotSubject {
  name: string;
  /** running: its processes are frozen for the instant of a multi-volume set */
  running: boolean;
  pid: number | null;
}

export interface VolumeSnapshotView {
  volume: string;
  /** all the data the snapshot references */
  referencedBytes: number;
  /** what only this snapshot holds: what deleting it frees */
  exclusiveBytes: number;
}

export interface SnapshotSetView extends Omit<SetRecord, 'volumes'> {
  volumes: VolumeSnapshotView[];
  exclusiveBytes: number;
}

export class NodeSnapshots {
  readonly records: SetRecords;
  private readonly driver: VolumeDriver;
  private readonly run: Runner;
  private readonly log: Logger;
  /** past this the node is thawed and the set discarded (freeze.ts MAX_FROZEN_MS) */
  private readonly maxFrozenMs: number;

  constructor(deps: { driver: VolumeDriver; run: Runner; stateDir: string; log: Logger; maxFrozenMs?: number }) {
    this.driver = deps.driver;
    this.run = deps.run;
    this.log = deps.log;
    this.maxFrozenMs = deps.maxFrozenMs ?? MAX_FROZEN_MS;
    this.records = new SetRecords(deps.stateDir);
  }

  async create(node: SnapshotSubject, kind: SnapshotKind, at = new Date()): Promise<SetRecord> {
    checkRef({ node: node.name, volume: 'x' });
    const started = performance.now();
    const volumes = (await this.driver.listVolumes(node.name)).map((r) => r.volume);
    if (!volumes.length) throw new ConflictError('NODE_HAS_NO_VOLUMES', `node ${node.name} has no volumes to snapshot`);
    const taken = new Set((await this.records.list(node.name)).map((r) => r.name));
    let name = setName(at, kind);
    for (let ms = at.getTime() + 1; taken.has(name); ms++) name = setName(new Date(ms), kind);
    const refs = volumes.map((volume): VolumeRef => ({ node: node.name, volume }));
    // outside the freeze: what the node wrote reaches the disk now, not while it stands still
    await this.run(['sync', '-f', this.driver.mountSource(refs[0]!)], { timeoutMs: 300_000 });
    await this.records.begin(node.name, name, volumes);
    // where the driver can, each snapshot's program is started before the freeze (measured: starting
    // three programs took about half of the frozen window under load)
    let shots: (() => Promise<void>)[] = refs.map((ref) => () => this.driver.createSnapshot(ref, name));
    let disarm = async (): Promise<void> => undefined;
    if (this.driver.armSnapshot) {
      const armed = await Promise.allSettled(refs.map((ref) => this.driver.armSnapshot!(ref, name)));
      const ready = armed.filter((a) => a.status === 'fulfilled').map((a) => a.value);
      disarm = async () => {
        await Promise.all(ready.map((a) => a.disarm()));
      };
      const failed = armed.find((a): a is PromiseRejectedResult => a.status === 'rejected');
      if (failed) {
        await disarm();
        await this.undo(node.name, volumes, name);
        throw failed.reason;
      }
      shots = ready.map((a) => () => a.fire());
    }
    const snapAll = async (): Promise<PromiseSettledResult<void>[]> => Promise.allSettled(shots.map((shot) => shot()));
    let settled: PromiseSettledResult<void>[];
    let freezeMs = 0;
    const frozen = node.running && volumes.length > 1;
    try {
      if (frozen) {
        if (node.pid === null) throw new ConflictError('NODE_NOT_RUNNING', `node ${node.name} has no process to freeze`);
        const result = await whileFrozen(await nodeCgroup(node.pid), this.records.freezeMarker(node.name), snapAll, this.maxFrozenMs);
        settled = result.value;
        freezeMs = result.frozenMs;
        if (result.overran) {
          // the snapshots finished after the thaw, so they are not of one instant: not a set
          throw new UnavailableError(
            'SNAPSHOT_FREEZE_OVERRUN',
            `the snapshots of ${node.name} took longer than ${this.maxFrozenMs} ms with the node frozen (btrfs was slow to commit): ` +
              'the node was thawed and the set discarded; the next one is tried at its time',
          );
        }
      } else settled = await snapAll();
    } catch (error) {
      await disarm();
      await this.undo(node.name, volumes, name);
      throw error;
    }
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await this.undo(node.name, volumes, name);
      throw failed.reason;
    }
    const record: SetRecord = { name, kind, createdAt: at.toISOString(), volumes, frozen, freezeMs: round(freezeMs), totalMs: 0 };
    record.totalMs = round(performance.now() - started);
    await this.records.complete(node.name, record);
    return record;
  }

  /** The node's whole sets, oldest first, with each volume snapshot's sizes. */
  async list(node: string): Promise<SnapshotSetView[]> {
    checkRef({ node, volume: 'x' });
    const records = await this.records.list(node);
    const sizes = new Map<string, Map<string, VolumeSnapshotView>>();
    for (const volume of new Set(records.flatMap((r) => r.volumes))) {
      const found = await this.driver.listSnapshots({ node, volume }).catch(() => []);
      sizes.set(volume, new Map(found.map((s) => [s.name, { volume, referencedBytes: s.referencedBytes, exclusiveBytes: s.exclusiveBytes }])));
    }
    const views: SnapshotSetView[] = [];
    for (const record of records) {
      const volumes = record.volumes.map((v) => sizes.get(v)?.get(record.name)).filter((v): v is VolumeSnapshotView => !!v);
      if (!volumes.length) continue; // every volume it covered was deleted since
      views.push({ ...record, volumes, exclusiveBytes: volumes.reduce((sum, v) => sum + v.exclusiveBytes, 0) });
    }
    return views;
  }

  /** The set, or NotFoundError (and a ValidationError for a name no set could have). */
  async get(node: string, name: string): Promise<SetRecord> {
    checkRef({ node, volume: 'x' });
    checkSnapshotName(name);
    if (!parseSetName(name))
      throw new ValidationError('INVALID_SNAPSHOT_NAME', `${JSON.stringify(name)} is not a snapshot set name (like 2026-12-04T20.15.03.123Z-auto)`);
    const record = (await this.records.list(node)).find((r) => r.name === name);
    if (!record) throw new NotFoundError('SNAPSHOT_NOT_FOUND', `node ${node} has no snapshot ${name}`);
    return record;
  }

  async delete(node: string, name: string): Promise<SetRecord> {
    const record = await this.get(node, name);
    await this.records.retire(node, name); // from here on it no longer counts, even if we are killed
    await this.undo(node, record.volumes, name);
    return record;
  }

  /** The volumes of the set (all when `volumes` is left out) rolled back; the node must be stopped (the caller checks). */
  async rollback(node: string, name: string, volumes?: string[]): Promise<string[]> {
    const record = await this.get(node, name);
    const chosen = this.chooseVolumes(record, volumes);
    for (const volume of chosen) await this.driver.restoreSnapshot({ node, volume }, name);
    return chosen;
  }

  /** One volume of the set opened as a new writable volume `target` (the set stays). */
  async openAsVolume(node: string, name: string, volume: string, target: VolumeRef): Promise<void> {
    checkRef(target);
    const record = await this.get(node, name);
    this.chooseVolumes(record, [volume]);
    await this.driver.volumeFromSnapshot({ node, volume }, name, target);
  }

  async readFile(node: string, name: string, volume: string, path: string): Promise<SnapshotFile> {
    const record = await this.get(node, name);
    this.chooseVolumes(record, [volume]);
    return openSnapshotFile(this.driver.snapshotSource({ node, volume }, name), path);
  }

  /** At start: thaws nodes a killed agent left frozen, deletes the sets it left half made or half
   * deleted. What cannot be done is reported (and tried again at the next start), never thrown. */
  async recover(pidOf: (node: string) => number | null = () => null): Promise<{ thawed: string[]; removed: string[]; failed: string[] }> {
    const thawed: string[] = [];
    const removed: string[] = [];
    const failed: string[] = [];
    for (const marker of await this.records.frozen()) {
      const node = marker.node;
      try {
        const pid = pidOf(node);
        const cgroup = marker.cgroup ?? (pid === null ? null : await nodeCgroup(pid));
        // (no cgroup: the marker was cut short and the node has no process, so nothing is frozen)
        // the marker is our own file; still, only a container's cgroup is ever written to
        if (cgroup?.dir.includes('/lxc.payload.') && (await isFrozen(cgroup).catch(() => false))) {
          await thaw(cgroup);
          thawed.push(node);
        }
        await this.records.freezeMarker(node).clear();
      } catch (error) {
        failed.push(`thaw ${node}: ${(error as Error).message}`);
      }
    }
    for (const { node, name, volumes } of await this.records.partial()) {
      try {
        await this.undo(node, volumes, name);
        removed.push(`${node}@${name}`);
      } catch (error) {
        failed.push(`remove ${node}@${name}: ${(error as Error).message}`);
      }
    }
    if (thawed.length || removed.length || failed.length) this.log.warn({ thawed, removed, failed }, 'finished snapshot work a stopped agent left behind');
    return { thawed, removed, failed };
  }

  private chooseVolumes(record: SetRecord, volumes: string[] | undefined): string[] {
    if (volumes === undefined) return record.volumes;
    if (!Array.isArray(volumes) || !volumes.length) throw new ValidationError('INVALID_VOLUME_NAME', 'volumes must name at least one volume');
    const unknown = volumes.filter((v) => !record.volumes.includes(v));
    if (unknown.length)
      throw new NotFoundError('VOLUME_NOT_FOUND', `snapshot ${record.name} has no volume ${unknown.join(', ')} (it has ${record.volumes.join(', ')})`);
    return [...new Set(volumes)];
  }

  /** Deletes the set's volume snapshots that exist, then its intent record. */
  private async undo(node: string, volumes: string[], name: string): Promise<void> {
    for (const volume of volumes) {
      const ref = { node, volume };
      await this.driver.deleteSnapshot(ref, name).catch((error: { code?: string }) => {
        if (error.code !== 'SNAPSHOT_NOT_FOUND' && error.code !== 'VOLUME_NOT_FOUND') throw error;
      });
    }
    await this.records.forget(node, name);
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
