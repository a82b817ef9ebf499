// station disk backup|restore|copies, and the copies as a source for `disk cat`: a node's copies on
// peer stations (agent/disk/copies). Restore and backup can take long (a whole node over the mesh):
// they wait up to six hours for the agent's answer.
import type { Command } from '../command.ts';
import { json, need } from '../command.ts';
import { CliError } from '../client.ts';
import { bytes, duration, table } from '../format.ts';
import type { AgentClient } from '../client.ts';
import type { CopyOutcome } from '../../../agent/disk/copies/node-copies.ts';
import type { RestoreResult } from '../../../agent/disk/copies/restore.ts';
import type { CopiesReport } from '../../../agent/disk/overview.ts';

const LONG = { timeoutMs: 6 * 3_600_000 };
const enc = encodeURIComponent;
const flag = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** A `disk cat` file source (disk.ts FileSource): the newest copy on a peer, or the one on --from. */
export async function fromCopy(
  client: AgentClient,
  file: { node: string; volume: string; path: string; snapshot?: string; from?: string },
  out: NodeJS.WritableStream,
): Promise<boolean> {
  const query = new URLSearchParams({ volume: file.volume, path: file.path });
  if (file.snapshot) query.set('snapshot', file.snapshot);
  if (file.from) query.set('from', file.from);
  return client.download(`/disk/copies/${enc(file.node)}/files?${query}`, out, { timeoutMs: 3_600_000 });
}

export function showCopies(nodes: { node: string; copies: CopiesReport | null }[]): string {
  if (!nodes.length) return 'no nodes';
  const rows: (string | number | null)[][] = [];
  for (const { node, copies } of nodes) {
    if (!copies) {
      rows.push([node, 'off', '-', '-', '-', '-', '-']);
      continue;
    }
    rows.push([node, `${copies.have}/${copies.want} ${copies.state}`, '', '', '', '', copies.reason ?? '']);
    for (const c of copies.list) {
      rows.push(['', '', c.station, c.state, c.lagSeconds === null ? '-' : duration(c.lagSeconds), bytes(c.bytes), c.reason ?? c.snapshot ?? '']);
    }
  }
  return table(['NODE', 'COPIES', 'STATION', 'STATE', 'LAG', 'HELD', 'SNAPSHOT / WHY'], rows);
}

export const COPY_COMMANDS: Command[] = [
  {
    words: ['disk', 'copies'],
    summary: "every node's copies on peer stations: want/have, state, lag, bytes held",
    usage: 'disk copies [--json]',
    async run(args, client) {
      const { nodes } = await client.get<{ nodes: { node: string; copies: CopiesReport | null }[] }>('/disk/copies');
      return args.json ? json({ nodes }) : showCopies(nodes);
    },
  },
  {
    words: ['disk', 'backup'],
    summary: "back a node's newest snapshot set up to its copies on peers now",
    usage: 'disk backup NODE [--json]',
    async run(args, client) {
      const node = need(args.positional[0], this.usage!);
      const result = await client.post<{ node: string; copies: CopyOutcome[] }>(`/disk/backup/${enc(node)}`, {}, LONG);
      if (args.json) return json(result);
      if (!result.copies.length) return `${node}: every copy holds the newest snapshot set already`;
      const failed = result.copies.filter((c) => !c.ok);
      const lines = result.copies.map((c) =>
        c.ok ? `${c.station}: snapshot ${c.snapshot}, ${bytes(c.dataAdded)} new, ${c.seconds?.toFixed(1)} s` : `${c.station}: failed: ${c.error}`,
      );
      if (failed.length === result.copies.length) throw new CliError(lines.join('\n'));
      return lines.join('\n');
    },
  },
  {
    words: ['disk', 'restore'],
    summary: "bring a node back on this station from the newest copy on the owner's other stations",
    usage: 'disk restore NODE [--snapshot ID] [--from STATION] [--origin STATION] [--json]',
    async run(args, client) {
      const node = need(args.positional[0], this.usage!);
      const body = { node, snapshot: flag(args.flags.snapshot), from: flag(args.flags.from), origin: flag(args.flags.origin) };
      const r = await client.post<RestoreResult>('/disk/restore', body, LONG);
      return args.json ? json(r) : `restored ${r.node} (${r.volumes.join(', ') || 'no volumes'}) from ${r.station}, snapshot ${r.snapshot} of ${r.time}`;
    },
  },
];
