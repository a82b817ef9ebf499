// A cluster's health from its members as a manager lists them (pure): healthy when every member is
// ready and every manager reachable; degraded when one is not but a majority of managers is (the
// cluster still takes changes); no-quorum when the reachable managers are not a majority (running
// tasks go on, nothing can be changed or rescheduled). This is what the API, page and events say.
import type { SwarmMember } from './swarm/swarm-parse.ts';

export type ClusterHealth = 'healthy' | 'degraded' | 'no-quorum';

export interface ClusterMemberView {
  /** the engine's id of the member (hostnames repeat when nodes on several stations share a name) */
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** ready, down, unknown, disconnected (Docker's Status, lower case) */
  state: string;
  leader: boolean;
  /** a manager: reachable by the others (the leader is) */
  reachable: boolean | null;
  availability: string;
  engineVersion: string;
}

export interface ClusterView {
  health: ClusterHealth;
  /** why not healthy, for people */
  reason: string | null;
  leader: string | null;
  managers: { total: number; reachable: number; quorum: boolean };
  members: ClusterMemberView[];
}

/** A swarm's members as a manager lists them (`docker node ls`), judged. */
export function clusterView(members: SwarmMember[]): ClusterView {
  return judgeCluster(
    members.map((m) => ({
      id: m.id,
      hostname: m.hostname,
      role: m.managerStatus ? 'manager' : 'worker',
      state: m.status.toLowerCase(),
      leader: m.managerStatus === 'Leader',
      reachable: m.managerStatus ? m.managerStatus === 'Leader' || m.managerStatus === 'Reachable' : null,
      availability: m.availability.toLowerCase(),
      engineVersion: m.engineVersion,
    })),
  );
}

/** Any engine's members, judged: healthy, degraded (with quorum) or without quorum. */
export function judgeCluster(views: ClusterMemberView[]): ClusterView {
  const managers = views.filter((m) => m.role === 'manager');
  const reachable = managers.filter((m) => m.reachable).length;
  const quorum = reachable > managers.length / 2;
  const notReady = views.filter((m) => m.state !== 'ready').map((m) => `${m.hostname} is ${m.state}`);
  const unreachable = managers.filter((m) => !m.reachable && m.state === 'ready').map((m) => `manager ${m.hostname} is unreachable`);
  const problems = [...notReady, ...unreachable];
  const health: ClusterHealth = !quorum ? 'no-quorum' : problems.length ? 'degraded' : 'healthy';
  const quorumSaid = `${reachable} of ${managers.length} managers reachable`;
  return {
    health,
    reason: health === 'healthy' ? null : `${problems.join('; ')} (${quorumSaid}: ${quorum ? 'the cluster keeps its quorum' : 'no quorum'})`,
    leader: views.find((m) => m.leader)?.hostname ?? null,
    managers: { total: managers.length, reachable, quorum },
    members: views,
  };
}

/** A manager that cannot list the members: without a leader there is no quorum. */
export function noQuorumView(reason: string): ClusterView {
  return { health: 'no-quorum', reason, leader: null, managers: { total: 0, reachable: 0, quorum: false }, members: [] };
}
