// Part 1: failover of one node's lease (agent/replicas/lease) on three real etcd members. Station A
// holds the lease of node `web` (NodeLease, TTL and margin as in replicas-lease); station B follows
// the key with an ActiveWatch on its own member and asks for the lease as soon as the watch says the
// key went, as a promoting Inactive would. Then A is lost, one of three ways:
//  - power-leader: A's station, whose member leads etcd, loses power: its member is killed and its
//    lease stops renewing (its agent is gone too). The worst case: etcd elects a new leader, which
//    gives every lease its TTL again plus one election timeout (etcd's lessor Promote).
//  - power-follower: the same for a station whose member follows: no election, the lease runs out
//    one TTL after A's last keep-alive.
//  - cut-leader: A's station, the leader's, is cut off from the others but keeps running: its
//    renewals fail, so it fences itself (onFence) before the lease can have run out anywhere.
// Figures per round, from the loss: B holds the lease; B's watch saw the key go; B's member follows
// a new leader (etcd's election, measured: a baseline); A fenced itself (cut only); how often a probe
// every 100 ms found A and B both holding (cut only; must be never). The loss comes right after A
// took the lease (its TTL full: the longest wait).
import { ActiveWatch, activeKey } from '../../../agent/replicas/lease/active-watch.ts';
import { NodeLease } from '../../../agent/replicas/lease/node-lease.ts';
import { waitFor } from '../../../test/helpers/wait.ts';
import { type Cluster, STATIONS } from './cluster.ts';

export const SCENARIOS = ['power-leader', 'power-follower', 'cut-leader'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface LeaseSettings {
  ttlSeconds: number;
  marginMs: number;
}

export interface FailoverRound {
  scenario: Scenario;
  /** stations: A lost, B took over */
  a: string;
  b: string;
  /** from the loss until B's acquire returned with the lease */
  takeoverMs: number;
  /** from the loss until B's watch saw the key go */
  keyGoneMs: number;
  /** from the loss until B's member followed a new leader; null where the leader stayed (power-follower) */
  electionMs: number | null;
  /** cut only: from the loss until A's lease called onFence */
  fencedMs: number | null;
  /** cut only: 100 ms probes that found A and B both holding the lease */
  twoHolders: number;
  oldToken: number;
  newToken: number;
}

const PREFIX = '/station/replicas/bench/';
const NODE = 'web';
const KEY = activeKey(PREFIX, NODE);

/** Rejects with `what` unless `promise` settles within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function failoverRound(cluster: Cluster, scenario: Scenario, s: LeaseSettings): Promise<FailoverRound> {
  const leader = await cluster.settled();
  const a = scenario === 'power-follower' ? (leader + 1) % STATIONS.length : leader;
  const b = (a + 1) % STATIONS.length; // for power-follower the other follower
  const oldLeader = (await cluster.status(leader)).memberId;
  const ttlMs = s.ttlSeconds * 1000;
  // released at the end of the last round, or running out if that release went unanswered
  await waitFor(`the key ${KEY} free`, async () => (await cluster.client(b).get(KEY)) === null, 2 * ttlMs);
  let fencedAt: number | null = null;
  let bFenced: string | null = null;
  const lease = (i: number, onFence: (why: string) => void) =>
    new NodeLease({ client: cluster.client(i), key: KEY, self: STATIONS[i]!, ttlSeconds: s.ttlSeconds, marginMs: s.marginMs, onFence });
  const leaseA = lease(a, () => (fencedAt ??= performance.now()));
  const leaseB = lease(b, (why) => (bFenced = why));

  let lostAt = 0;
  let keyGoneAt = 0;
  let takenAt = 0;
  let newToken = 0;
  const following = Promise.withResolvers<void>();
  const taken = Promise.withResolvers<void>();
  let contending = false;
  /** B asks for the lease until it holds it; a refusal (someone holds it) waits for the watch again */
  const contend = async () => {
    if (contending || takenAt) return;
    contending = true;
    try {
      while (!takenAt) {
        const r = await leaseB.acquire().catch(() => null);
        if (r?.held) {
          takenAt = performance.now();
          newToken = r.token;
          taken.resolve();
        } else if (r) return;
        else await new Promise((resolve) => setTimeout(resolve, 100)); // no answer (an election): ask again
      }
    } finally {
      contending = false;
    }
  };
  const watch = new ActiveWatch({
    client: cluster.client(b),
    prefix: PREFIX,
    onChange: (node, holder) => {
      if (node !== NODE) return;
      if (holder === STATIONS[a]) following.resolve();
      if (holder === null && lostAt) {
        keyGoneAt ||= performance.now();
        void contend();
      }
    },
  });
  let probe: NodeJS.Timeout | undefined;
  let twoHolders = 0;
  try {
    const held = await leaseA.acquire();
    if (!held.held) throw new Error(`${STATIONS[a]} could not take the lease: ${held.holder} holds it`);
    watch.start();
    await within(following.promise, 10_000, `${STATIONS[b]}'s watch to see ${STATIONS[a]} hold the lease`);

    if (scenario === 'cut-leader') {
      probe = setInterval(() => {
        if (leaseA.held && leaseB.held) twoHolders++;
      }, 100);
      await cluster.cut(a);
      lostAt = performance.now();
    } else {
      lostAt = performance.now();
      leaseA.stop();
      await cluster.powerOff(a);
    }
    const elected =
      scenario === 'power-follower'
        ? Promise.resolve(null)
        : waitFor(
            `${STATIONS[b]}'s member to follow a new leader`,
            async () => {
              const st = await cluster.status(b);
              return st.leader && st.leader !== oldLeader ? performance.now() : false;
            },
            6 * ttlMs,
            20,
          );
    await within(taken.promise, 6 * ttlMs, `${STATIONS[b]} to take the lease after ${scenario}`);
    const electedAt = await elected;
    if (scenario === 'cut-leader' && fencedAt === null) await waitFor(`${STATIONS[a]} to fence itself`, async () => fencedAt, ttlMs);
    if (bFenced) throw new Error(`${STATIONS[b]} fenced itself while it held the lease: ${bFenced}`);
    return {
      scenario,
      a: STATIONS[a]!,
      b: STATIONS[b]!,
      takeoverMs: takenAt - lostAt,
      keyGoneMs: keyGoneAt - lostAt,
      electionMs: electedAt === null ? null : electedAt - lostAt,
      fencedMs: scenario === 'cut-leader' && fencedAt !== null ? fencedAt - lostAt : null,
      twoHolders,
      oldToken: held.token,
      newToken,
    };
  } finally {
    clearInterval(probe);
    watch.stop();
    leaseA.stop();
    // the station comes back as it was lost; the key goes at once for the next round
    await leaseB.release().catch(() => undefined);
    if (lostAt && scenario === 'cut-leader') await cluster.heal(a);
    else if (lostAt) await cluster.powerOn(a);
  }
}
