// Cutting a station off the mesh while it keeps running (a partition, or a power loss as the others
// see it): an nftables table in the station's own namespace drops Nebula's UDP port both ways.
// Used by the replicas tests and benchmark; the table's name carries the caller's run prefix.
import type { StationRecord } from './stations.ts';
import { exec } from '../../agent/exec.ts';
import { NEBULA_PORT } from './topology.ts';

export function cutRules(table: string): string {
  return [
    `table inet ${table} {`,
    `  chain in { type filter hook input priority -10; udp dport ${NEBULA_PORT} drop; }`,
    `  chain out { type filter hook output priority -10; udp sport ${NEBULA_PORT} drop; }`,
    '}',
    '',
  ].join('\n');
}

export async function cutFromMesh(st: StationRecord, table: string): Promise<void> {
  await exec(['nft', '-f', '-'], { netns: st.netns, input: cutRules(table) });
}

/** Removes the cut's table (nothing when it is gone already). */
export async function healCut(st: StationRecord, table: string): Promise<void> {
  await exec(['nft', 'delete', 'table', 'inet', table], { netns: st.netns, allowFailure: true });
}
