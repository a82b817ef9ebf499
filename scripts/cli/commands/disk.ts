// station disk snapshots|snapshot|rollback|cat: a node's snapshot sets (agent/disk/snapshots).
// `disk cat` reads one file through a list of sources tried in order (FILE_SOURCES): today the
// station's own snapshot sets; a source that does not have the file says so (returns false) and the
// next one is tried, so reading from copies on peers is one more entry.
import type { Command, ParsedArgs } from '../command.ts';
import { json, need, readCommand } from '../command.ts';
import { type AgentClient, CliError } from '../client.ts';
import { bytes, table } from '../format.ts';
import { COPY_COMMANDS, fromCopy } from './disk-copies.ts';
import { EXPORT_COMMANDS } from './disk-exports.ts';

interface SetView {
  name: string;
  kind: 'auto' | 'manual';
  createdAt: string;
  frozen: boolean;
  freezeMs: number;
  totalMs: number;
  volumes: { volume: string; referencedBytes: number; exclusiveBytes: number }[];
  exclusiveBytes: number;
}

const enc = encodeURIComponent;

/** NODE/VOLUME/PATH -> its parts (the path keeps its slashes). */
export function parseFileRef(ref: string): { node: string; volume: string; path: string } {
  const [node, volume, ...rest] = ref.split('/');
  if (!node || !volume || !rest.length || !rest.join('/')) throw new CliError('usage: station disk cat NODE/VOLUME/PATH [--snapshot NAME]', 2);
  return { node, volume, path: `/${rest.join('/')}` };
}

export interface FileRequest {
  node: string;
  volume: string;
  path: string;
  snapshot: string | undefined;
  /** read from the copy on this peer station only (station disk cat --from) */
  from?: string;
}

/** A place a file can be read from: writes it to `out` and returns true, or returns false when it does not have it. */
export type FileSource = (client: AgentClient, file: FileRequest, out: NodeJS.WritableStream) => Promise<boolean>;

/** The station's own snapshot sets: the one named, or the newest. */
const fromLocalSnapshot: FileSource = async (client, file, out) => {
  let snapshot = file.snapshot;
  if (!snapshot) {
    // a node that is not on this station (its station gone) has no local sets: the copies may have it
    const listed = await client.get<{ snapshots: SetView[] }>(`/nodes/${enc(file.node)}/snapshots`).catch((error: Error) => {
      if (/\(NODE_NOT_FOUND\)$/.test(error.message)) return { snapshots: [] as SetView[] };
      throw error;
    });
    snapshot = listed.snapshots.at(-1)?.name;
    if (!snapshot) return false;
  }
  const query = `volume=${enc(file.volume)}&path=${enc(file.path)}`;
  // the newest set, asked for by no name, may be gone by now: the copies may still have the file
  const absentCode = file.snapshot ? undefined : 'SNAPSHOT_NOT_FOUND';
  return client.download(`/nodes/${enc(file.node)}/snapshots/${enc(snapshot)}/files?${query}`, out, { timeoutMs: 600_000, absentCode });
};

export const FILE_SOURCES: FileSource[] = [fromLocalSnapshot, fromCopy];

function showSets(node: string, sets: SetView[]): string {
  if (!sets.length) return `node ${node} has no snapshots`;
  return table(
    ['SNAPSHOT', 'KIND', 'VOLUMES', 'EXCLUSIVE', 'FROZEN'],
    sets.map((s) => [
      s.name,
      s.kind,
      s.volumes.map((v) => `${v.volume} ${bytes(v.referencedBytes)}`).join(', '),
      bytes(s.exclusiveBytes),
      s.frozen ? `${s.freezeMs} ms` : '-',
    ]),
  );
}

interface DiskReportView {
  driver: string | null;
  pool: { sizeBytes: number; usedBytes: number; freeBytes: number } | null;
  store: { running: boolean; offerBytes: number; usedBytes: number; reason: string | null } | null;
  nodes: {
    name: string;
    volumes: { name: string; usedBytes: number | null; quotaBytes: number | null }[];
    snapshots: { count: number; newest: string | null } | null;
    copies: { want: number; have: number; reason: string | null } | null;
  }[];
}

/** `station disk`: the pool, the store for peers, and per node volumes, snapshots and copies (have/want). */
export function showDisk(d: DiskReportView): string {
  const lines = [
    `volumes: ${d.driver ?? 'off'}${d.pool ? `, pool ${bytes(d.pool.usedBytes)} used of ${bytes(d.pool.sizeBytes)}, ${bytes(d.pool.freeBytes)} free` : ''}`,
  ];
  if (d.store)
    lines.push(
      `store for peers: ${d.store.running ? `${bytes(d.store.usedBytes)} held of ${bytes(d.store.offerBytes)} offered` : (d.store.reason ?? 'not serving')}`,
    );
  if (!d.nodes.length) return [...lines, 'no node volumes'].join('\n');
  const volumes = (n: DiskReportView['nodes'][number]) =>
    n.volumes.map((v) => `${v.name} ${v.usedBytes === null ? '?' : bytes(v.usedBytes)}${v.quotaBytes ? `/${bytes(v.quotaBytes)}` : ''}`).join(', ') || '-';
  const copies = (c: DiskReportView['nodes'][number]['copies']) => (c ? `${c.have}/${c.want}${c.reason ? ` (${c.reason})` : ''}` : '-');
  const rows = d.nodes.map((n) => [n.name, volumes(n), n.snapshots ? `${n.snapshots.count}` : '-', copies(n.copies)]);
  return [...lines, '', table(['NODE', 'VOLUMES', 'SNAPSHOTS', 'COPIES'], rows)].join('\n');
}

export const DISK_COMMANDS: Command[] = [
  readCommand<DiskReportView>(['disk'], 'the volume pool, the store for peers, and per node volumes, snapshots and copies', '/disk', showDisk),
  {
    words: ['disk', 'grow'],
    summary: 'grow the loop-backed volume pool to SIZE_MB (never shrinks)',
    usage: 'disk grow SIZE_MB [--json]',
    async run(args, client) {
      const sizeMB = Number(need(args.positional[0], this.usage!));
      if (!Number.isSafeInteger(sizeMB)) throw new CliError(`usage: station ${this.usage!} (a whole number of MiB)`, 2);
      const usage = await client.post<{ sizeBytes: number; freeBytes: number }>('/disk/pool/grow', { sizeMB });
      return args.json ? json(usage) : `pool grown to ${bytes(usage.sizeBytes)}, ${bytes(usage.freeBytes)} free`;
    },
  },
  {
    words: ['disk', 'snapshots'],
    summary: "a node's snapshot sets, oldest first, with sizes",
    usage: 'disk snapshots NODE [--json]',
    async run(args, client) {
      const node = need(args.positional[0], this.usage!);
      const { snapshots } = await client.get<{ snapshots: SetView[] }>(`/nodes/${enc(node)}/snapshots`);
      return args.json ? json({ snapshots }) : showSets(node, snapshots);
    },
  },
  {
    words: ['disk', 'snapshot'],
    summary: "snapshot all of a node's volumes now (kept until deleted)",
    usage: 'disk snapshot NODE [--json]',
    async run(args, client) {
      const node = need(args.positional[0], this.usage!);
      const set = await client.post<SetView>(`/nodes/${enc(node)}/snapshots`);
      if (args.json) return json(set);
      return `${set.name}: ${set.volumes.length} volume(s)${set.frozen ? `, node frozen ${set.freezeMs} ms` : ''}, ${set.totalMs} ms in all`;
    },
  },
  {
    words: ['disk', 'rollback'],
    summary: "roll a stopped node's volumes (or one) back to a snapshot set",
    usage: 'disk rollback NODE SNAPSHOT [--volume V] [--json]',
    async run(args: ParsedArgs, client) {
      const node = need(args.positional[0], this.usage!);
      const snapshot = need(args.positional[1], this.usage!);
      const body = args.flags.volume === undefined ? {} : { volumes: [need(args.flags.volume, this.usage!)] };
      const result = await client.post<{ restored: string[] }>(`/nodes/${enc(node)}/snapshots/${enc(snapshot)}/restore`, body);
      return args.json ? json(result) : `rolled back ${result.restored.join(', ')} of ${node} to ${snapshot}`;
    },
  },
  {
    words: ['disk', 'cat'],
    summary: 'print one file of a node volume from a snapshot (the newest unless --snapshot)',
    usage: 'disk cat NODE/VOLUME/PATH [--snapshot NAME] [--from STATION]',
    async run(args, client) {
      const file = {
        ...parseFileRef(need(args.positional[0], this.usage!)),
        snapshot: typeof args.flags.snapshot === 'string' ? args.flags.snapshot : undefined,
        from: typeof args.flags.from === 'string' ? args.flags.from : undefined,
      };
      // --from: the copy on that peer only
      for (const source of file.from ? [fromCopy] : FILE_SOURCES) if (await source(client, file, process.stdout)) return;
      throw new CliError(`no snapshot of ${file.node} holds ${file.volume}${file.path}`);
    },
  },
  ...COPY_COMMANDS,
  ...EXPORT_COMMANDS,
];
