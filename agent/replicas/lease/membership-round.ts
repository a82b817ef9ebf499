// One round of the lease store's membership, as the owner's authority runs it (pure): which single
// change to make to etcd's member list now. Newcomers join as learners, which follow the log without
// voting, so a station that never starts its member cannot stall writes (a voter added to one member
// would: the quorum becomes two at once). A learner is promoted once it runs (etcd refuses until it
// has caught up: the next round tries again) and removed if it never starts. Voters then follow
// membership.ts: three or five of the owner's online stations, gone ones removed first.
import type { EtcdMemberInfo } from './etcd-gateway.ts';
import { nextChange, wantedMembers } from './membership.ts';

/** how long an added learner may take to start before the authority gives its place up */
export const LEARNER_START_MS = 120_000;

export interface MemberStation {
  name: string;
  /** its mesh address (members listen there) */
  address: string;
  /** counts for membership: online, or gone for less than the lost threshold */
  present: boolean;
}

export type MembershipAction =
  | { kind: 'promote'; id: string; station: string }
  | { kind: 'add'; station: string; address: string }
  | { kind: 'remove'; id: string; station: string; why: string }
  | null;

const hostOf = (url: string | undefined): string | null => {
  try {
    return url ? new URL(url).hostname : null;
  } catch {
    return null;
  }
};

/**
 * The next change, or null when the members are as wanted (or a learner is still starting).
 * `learnersSince` says when each learner was first seen (the caller keeps it across rounds); `self`,
 * the authority running the round, keeps its own member when there are more than wanted.
 */
export function membershipAction(
  members: readonly EtcdMemberInfo[],
  stations: readonly MemberStation[],
  learnersSince: ReadonlyMap<string, number>,
  now: number,
  self: string,
): MembershipAction {
  const stationAt = (member: EtcdMemberInfo) => stations.find((s) => s.address === hostOf(member.peerUrls[0]));
  const nameOf = (member: EtcdMemberInfo) => member.name || stationAt(member)?.name || member.peerUrls[0] || member.id;

  for (const learner of members.filter((m) => m.learner)) {
    const station = stationAt(learner);
    if (learner.name) return { kind: 'promote', id: learner.id, station: learner.name };
    if (!station?.present) return { kind: 'remove', id: learner.id, station: nameOf(learner), why: 'its station is gone before it started' };
    if (now - (learnersSince.get(learner.id) ?? now) >= LEARNER_START_MS)
      return { kind: 'remove', id: learner.id, station: nameOf(learner), why: `it did not start within ${LEARNER_START_MS / 1000} s` };
    return null; // starting: one change at a time
  }

  const voters = members.filter((m) => !m.learner).sort((a, b) => Number(nameOf(b) === self) - Number(nameOf(a) === self));
  const current = voters.map(nameOf);
  const present = new Set(stations.filter((s) => s.present).map((s) => s.name));
  const wanted = wantedMembers(
    stations.map((s) => ({ name: s.name, online: s.present })),
    current,
  );
  const change = nextChange(current, wanted, present);
  if (!change) return null;
  if ('add' in change) return { kind: 'add', station: change.add, address: stations.find((s) => s.name === change.add)!.address };
  const member = voters[current.indexOf(change.remove)]!;
  return { kind: 'remove', id: member.id, station: change.remove, why: present.has(change.remove) ? 'more members than wanted' : 'its station is gone' };
}
