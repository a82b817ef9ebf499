// What makes a snapshot set count. A node's volumes are snapshotted one subvolume each under one
// name; a set counts only once its record is written, after the last volume was snapped:
//   STATE/disk/snapshots/<node>/<name>.json          a whole set (counted, listed, kept or pruned)
//   STATE/disk/snapshots/<node>/<name>.partial.json  a set being made or being deleted: not counted;
//                                                    at the next start its volume snapshots go
//   STATE/disk/snapshots/<node>/.frozen.json         the node's cgroup, written before a freeze and
//                                                    removed after the thaw: a killed agent's note
// The records sit in the state directory, the snapshots on the pool: a set's volume snapshots that
// are missing (a volume deleted since) are left out of its listing.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import type { NodeCgroup } from './freeze.ts';

export type SnapshotKind = 'auto' | 'manual';

export interface SetRecord {
  name: string;
  kind: SnapshotKind;
  createdAt: string;
  volumes: string[];
  /** whether the node was running (and so frozen) when it was taken */
  frozen: boolean;
  /** how long the node stood still (0 when it was not running) */
  freezeMs: number;
  totalMs: number;
}

// 2026-12-04T20.15.03.123Z-auto: UTC, sortable as text, and a name checkSnapshotName accepts
const SET_NAME = /^(\d{4}-\d\d-\d\dT\d\d)\.(\d\d)\.(\d\d\.\d{3}Z)-(auto|manual)$/;

export function setName(at: Date, kind: SnapshotKind): string {
  return `${at.toISOString().replace(/:/g, '.')}-${kind}`;
}

/** The time and kind a set name carries, or null for a name that is not a set's. */
export function parseSetName(name: string): { at: Date; kind: SnapshotKind } | null {
  const m = SET_NAME.exec(name);
  if (!m) return null;
  const at = new Date(`${m[1]}:${m[2]}:${m[3]}`);
  return Number.isNaN(at.getTime()) ? null : { at, kind: m[4] as SnapshotKind };
}

const PARTIAL = '.partial.json';
const FROZEN = '.frozen.json';

export class SetRecords {
  readonly root: string;
  constructor(stateDir: string) {
    this.root = join(stateDir, 'disk', 'snapshots');
  }

  private dir(node: string): string {
    return join(this.root, node);
  }

  /** Before the first volume is snapped: the set exists only as an intent. */
  async begin(node: string, name: string, volumes: string[]): Promise<void> {
    await mkdir(this.dir(node), { recursive: true, mode: 0o700 });
    await writeFile(join(this.dir(node), `${name}${PARTIAL}`), JSON.stringify({ name, volumes }));
  }

  /** After the last volume was snapped: the set counts from here on. */
  async complete(node: string, record: SetRecord): Promise<void> {
    await writeFileAtomic(join(this.dir(node), `${record.name}.json`), `${JSON.stringify(record)}\n`, 0o600);
    await rm(join(this.dir(node), `${record.name}${PARTIAL}`), { force: true });
  }

  /** Before its volume snapshots are deleted: the set stops counting at once. */
  async retire(node: string, name: string): Promise<void> {
    await rename(join(this.dir(node), `${name}.json`), join(this.dir(node), `${name}${PARTIAL}`));
  }

  async forget(node: string, name: string): Promise<void> {
    await rm(join(this.dir(node), `${name}${PARTIAL}`), { force: true });
  }

  /** The node's whole sets, oldest first. */
  async list(node: string): Promise<SetRecord[]> {
    const records: SetRecord[] = [];
    for (const entry of await this.entries(node)) {
      if (entry.endsWith(PARTIAL) || !entry.endsWith('.json') || !parseSetName(entry.slice(0, -5))) continue;
      const record = await readFile(join(this.dir(node), entry), 'utf8').then(
        (text) => JSON.parse(text) as SetRecord,
        () => null,
      );
      if (record) records.push(record);
    }
    return records.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Sets a killed agent left half made (or half deleted), per node. */
  async partial(): Promise<{ node: string; name: string; volumes: string[] }[]> {
    const out: { node: string; name: string; volumes: string[] }[] = [];
    for (const node of await readdir(this.root).catch(() => [] as string[])) {
      for (const entry of (await this.entries(node)).filter((e) => e.endsWith(PARTIAL))) {
        const name = entry.slice(0, -PARTIAL.length);
        const volumes = await readFile(join(this.dir(node), entry), 'utf8').then(
          (text) => (JSON.parse(text) as { volumes?: string[] }).volumes ?? [],
          () => [] as string[],
        );
        if (parseSetName(name)) out.push({ node, name, volumes });
      }
    }
    return out;
  }

  /** A node deleted with its volumes (their snapshots went with them): its records go too. */
  async removeNode(node: string): Promise<void> {
    await rm(this.dir(node), { recursive: true, force: true });
  }

  freezeMarker(node: string): { write(c: NodeCgroup): Promise<void>; clear(): Promise<void> } {
    const file = join(this.dir(node), FROZEN);
    return {
      write: async (cgroup) => {
        await mkdir(this.dir(node), { recursive: true, mode: 0o700 });
        await writeFile(file, JSON.stringify(cgroup));
      },
      clear: () => rm(file, { force: true }),
    };
  }

  /** Nodes a killed agent left frozen (their markers), with the cgroup it froze; null when the
   * marker itself was cut short by the kill (the caller finds the node's cgroup anew). */
  async frozen(): Promise<{ node: string; cgroup: NodeCgroup | null }[]> {
    const out: { node: string; cgroup: NodeCgroup | null }[] = [];
    for (const node of await readdir(this.root).catch(() => [] as string[])) {
      const text = await readFile(join(this.dir(node), FROZEN), 'utf8').catch(() => null);
      if (text === null) continue;
      let cgroup: NodeCgroup | null = null;
      try {
        cgroup = JSON.parse(text) as NodeCgroup;
      } catch {
        /* cut short */
      }
      out.push({ node, cgroup });
    }
    return out;
  }

  private entries(node: string): Promise<string[]> {
    return readdir(this.dir(node)).catch(() => [] as string[]);
  }
}
