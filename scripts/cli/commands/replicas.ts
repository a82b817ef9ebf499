// station node replicas|promote|move, station replicas: a node's Active and Inactive copies on the owner's
// stations (agent/replicas/, docs/replicas.md). Each station answers for what it sees: the Active's
// station knows every Inactive copy and the lease; a station holding an Inactive copy knows its own
// copy's lag and which station it believes runs the Active. Lag is printed in seconds, the unit of a
// spec's maxLagSeconds, so a person compares the two at a glance.
import type { Command } from '../command.ts';
import { json, need, readCommand } from '../command.ts';
import { AgentError, CliError } from '../client.ts';
import { keyValues, table } from '../format.ts';
import type { PromoteResult } from '../../../agent/replicas/inactive/promote.ts';
import type { NodeReplicasView, ReplicasReport } from '../../../agent/replicas/replicas-subsystem.ts';
import { withProgress } from './node.ts';

/** What POST /nodes/:name/promote answers: the promotion without the lease object the agent keeps. */
export type Promoted = Omit<PromoteResult, 'lease'>;

const enc = encodeURIComponent;
// promoting makes the node here: a template this station never built takes minutes, as node create does
const LONG = { timeoutMs: 60 * 60_000 };

/** "-" before a copy holds any snapshot (nothing to measure a lag against). */
const seconds = (lag: number | null | undefined): string => (lag === null || lag === undefined ? '-' : `${lag} s`);

function showLease(lease: NonNullable<NodeReplicasView['lease']>): string {
  if (lease.held) return `${lease.holder ?? 'this station'}, token ${lease.token ?? '-'}`;
  return `not held here: ${lease.reason ?? (lease.holder ? `${lease.holder} holds it` : 'nobody holds it')}`;
}

/** `station node replicas NAME`: the Active's station lists each Inactive copy; an Inactive station shows its own. */
export function showNodeReplicas(v: NodeReplicasView): string {
  if (v.role === 'inactive')
    return keyValues([
      ['node', v.node],
      ['role', 'inactive: this station holds a copy'],
      ['active on', v.active ?? 'no station (nobody holds its lease)'],
      ['lag', v.lagSeconds === null ? '- (no snapshot of every volume here yet)' : `${v.lagSeconds} s since its newest snapshot here was taken`],
      // the failover watch's last reason not to promote itself (none: it was never held back)
      ['held back', v.held ?? 'no'],
    ]);
  const head = keyValues([
    ['node', v.node],
    ['role', 'active: it runs here'],
    ['active on', v.active],
    ['lease', v.lease ? showLease(v.lease) : '-'],
  ]);
  if (!v.replicas.length) return `${head}\nno Inactive copy yet`;
  const rows = v.replicas.map((r) => [r.station, r.sending ? `${r.state}, sending` : r.state, seconds(r.lagSeconds), r.snapshot, r.error ?? '']);
  return `${head}\n\n${table(['STATION', 'STATE', 'LAG', 'NEWEST SNAPSHOT', 'ERROR'], rows)}`;
}

const MEMBER = { none: 'this station runs no member', starting: "this station's member is starting", serving: "this station's member serves" };

/** `station replicas`: the lease store and failover mode, then one line per replicated node seen here. */
export function showReplicas(r: ReplicasReport): string {
  const store = r.leaseStore;
  const marks = (m: ReplicasReport['leaseStore']['members'][number]) => [m.leader && 'leader', m.learner && 'learner'].filter(Boolean).join(', ');
  const head = keyValues([
    ['lease store', `${MEMBER[store.member]}${store.reason ? `: ${store.reason}` : ''}`],
    ['members', store.members.map((m) => (marks(m) ? `${m.name} (${marks(m)})` : m.name)).join(', ') || 'none known'],
    ['voters', store.voters],
    ['failover', r.failover.automatic ? 'automatic' : `manual only${r.failover.reason ? `: ${r.failover.reason}` : ''}`],
  ]);
  if (!r.nodes.length) return `${head}\n\nno replicated node runs here and no copy is held here`;
  const rows = r.nodes.map((n) =>
    n.role === 'active'
      ? [
          n.node,
          'active',
          n.active,
          n.replicas.map((c) => `${c.station} ${seconds(c.lagSeconds)}`).join(', ') || '-',
          n.lease?.held ? '' : (n.lease?.reason ?? ''),
        ]
      : [n.node, 'inactive', n.active, seconds(n.lagSeconds), n.held ?? ''],
  );
  return `${head}\n\n${table(['NODE', 'ROLE', 'ACTIVE', 'LAG', 'NOTE'], rows)}`;
}

/** `station node promote NAME`: where the Active was, the new fencing token, and how far behind the copy was. */
export function showPromoted(p: Promoted): string {
  const token = p.token === null ? 'forced without the lease (no fencing token)' : `lease token ${p.token}`;
  const lag = p.lagSeconds === null ? 'lag unknown' : `its newest snapshot was ${p.lagSeconds} s old`;
  return `${p.node} is Active here now (was Active on ${p.from}), ${token}, ${lag}`;
}

/** What POST /nodes/:name/move answers. */
export interface Moved {
  node: string;
  from: string;
  to: string;
  token: number | null;
  downtimeSeconds: number;
  steps?: Record<string, number>;
}

/** `station node move NAME --to STATION`: where it runs now, and how long it stood still. */
export function showMoved(m: Moved): string {
  const where = `${m.node} runs on ${m.to} now (moved from ${m.from}, lease token ${m.token ?? '-'})`;
  return `${where}; it stood still ${m.downtimeSeconds} s; the copy on ${m.from} is Inactive`;
}

/** The 409 LEASE_HELD_ELSEWHERE refusal: who holds the lease, and when --force is safe at all. */
export function leaseHeldElsewhere(node: string, holder: string | null): string {
  const where = holder ?? 'another station';
  return [
    `${where} holds the lease of ${node}: its Active copy runs there, so the copy here stays Inactive (LEASE_HELD_ELSEWHERE)`,
    `--force promotes without the lease: only once ${where} is confirmed off, or two Active copies of ${node} write apart`,
  ].join('\n');
}

export const REPLICA_COMMANDS: Command[] = [
  {
    words: ['node', 'replicas'],
    summary: "a replicated node's copies: where its Active runs, the lease, each Inactive copy's state and lag",
    usage: 'node replicas NAME',
    async run(args, client) {
      const view = await client.get<NodeReplicasView>(`/nodes/${enc(need(args.positional[0], this.usage!))}/replicas`);
      return args.json ? json(view) : showNodeReplicas(view);
    },
  },
  {
    words: ['node', 'promote'],
    summary: 'make the Inactive copy held here the Active node (--force: without the lease, its station confirmed off)',
    usage: 'node promote NAME [--force]',
    booleanFlags: ['force'],
    async run(args, client) {
      const name = need(args.positional[0], this.usage!);
      const body = args.flags.force === true ? { force: true } : {};
      const promoted = await withProgress(client, name, client.post<Promoted>(`/nodes/${enc(name)}/promote`, body, LONG)).catch((error: unknown) => {
        if (error instanceof AgentError && error.code === 'LEASE_HELD_ELSEWHERE') {
          throw new CliError(leaseHeldElsewhere(name, typeof error.facts.holder === 'string' ? error.facts.holder : null));
        }
        throw error;
      });
      return args.json ? json(promoted) : showPromoted(promoted);
    },
  },
  {
    words: ['node', 'move'],
    summary: 'a planned move of a replicated node to one of its Inactive stations: stopped, a last increment, started there',
    usage: 'node move NAME --to STATION',
    async run(args, client) {
      const name = need(args.positional[0], this.usage!);
      const to = need(typeof args.flags.to === 'string' ? args.flags.to : undefined, this.usage!);
      const moved = await client.post<Moved>(`/nodes/${enc(name)}/move`, { to }, LONG);
      return args.json ? json(moved) : showMoved(moved);
    },
  },
  readCommand<ReplicasReport>(
    ['replicas'],
    "the owner's lease store, whether failover is automatic, and each replicated node here: role, Active, lag",
    '/replicas',
    showReplicas,
  ),
];
