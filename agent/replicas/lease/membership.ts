// Which of an owner's stations run an etcd member (pure). Three or five voters tolerate the loss of
// one or two; an even number tolerates no more than one fewer, so it never is one (two stations run
// one member: failover there is manual, as status says). Members stay members while they are online
// (each change is a raft configuration change), new ones are taken online-first, then by name so
// that every station computes the same set.

export interface StationCandidate {
  name: string;
  online: boolean;
}

/** How many members for this many online stations. */
export function memberCount(online: number): number {
  if (online >= 5) return 5;
  if (online >= 3) return 3;
  return Math.min(online, 1);
}

/** The stations that should run members, given who runs one now. */
export function wantedMembers(stations: readonly StationCandidate[], current: readonly string[]): string[] {
  const online = stations.filter((s) => s.online).map((s) => s.name);
  const want = memberCount(online.length);
  const kept = current.filter((name) => online.includes(name)).slice(0, want);
  const others = online.filter((name) => !kept.includes(name)).sort();
  return [...kept, ...others.slice(0, want - kept.length)].sort();
}

/**
 * One step from `current` towards `wanted`, one at a time (etcd takes one configuration change at a
 * time). A member that is gone is removed first, as etcd's guide says: adding first would raise the
 * quorum while a voter is missing, and a newcomer that then failed to start would stop all writes.
 * Then newcomers are added, then surplus members that still run are removed.
 */
export function nextChange(current: readonly string[], wanted: readonly string[], online: ReadonlySet<string>): { add: string } | { remove: string } | null {
  const gone = current.find((name) => !wanted.includes(name) && !online.has(name));
  if (gone) return { remove: gone };
  const add = wanted.find((name) => !current.includes(name));
  if (add) return { add };
  const surplus = current.find((name) => !wanted.includes(name));
  return surplus ? { remove: surplus } : null;
}

/** --initial-cluster for a member joining: every member by name (the joining one has none yet in etcd's list). */
export function joiningCluster(members: readonly { name: string; peerUrls: string[] }[], name: string, peerUrl: string): Record<string, string> {
  const cluster: Record<string, string> = {};
  for (const m of members) {
    const url = m.peerUrls[0];
    if (!url) continue;
    if (url === peerUrl) cluster[name] = url;
    else if (m.name) cluster[m.name] = url;
    else throw new Error(`member at ${url} has not started yet: start it before adding another`);
  }
  if (!cluster[name]) throw new Error(`${name} (${peerUrl}) is not in the member list: add it first`);
  return cluster;
}
