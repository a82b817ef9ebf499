// This station's etcd member (Debian's etcd-server 3.4), run and kept running by the agent: plain
// HTTP on the station's mesh address (Nebula already encrypts and authenticates every packet between
// stations; which stations may reach the ports is the firewall's job), data in the state directory.
// Raft's timings follow the mesh's round trips, as etcd's tuning guide says: a heartbeat about one
// round trip, an election timeout ten heartbeats (and never under a second), but bounded by the node
// leases they serve: a lease holder fences two election timeouts before its TTL runs out
// (node-lease.ts), so an election timeout longer than a quarter of the TTL would leave it no time to
// renew. A mesh that slow for the TTL gets the bound (and status says to raise the TTL).
import { arch } from 'node:os';
import type { Logger } from '../../log.ts';
import { SupervisedProcess } from '../../lib/supervised-process.ts';

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

export interface RaftTimings {
  heartbeatMs: number;
  electionMs: number;
}

/** etcd refuses an election timeout under five heartbeats */
const HEARTBEATS_PER_ELECTION_MIN = 5;

/**
 * Raft timings for the slowest round trip between members (ms), bounded by the node leases' TTL:
 * `bounded` says the round trips asked for longer ones.
 */
export function raftTimings(worstRttMs: number, leaseTtlMs = Number.POSITIVE_INFINITY): RaftTimings & { bounded: boolean } {
  const wantedHeartbeat = Math.min(1000, Math.max(100, Math.ceil(worstRttMs * 1.5)));
  const wantedElection = Math.min(50_000, Math.max(1000, wantedHeartbeat * 10));
  const electionMs = Math.min(wantedElection, Math.max(1000, Math.floor(leaseTtlMs / 4)));
  const heartbeatMs = Math.min(wantedHeartbeat, Math.floor(electionMs / HEARTBEATS_PER_ELECTION_MIN));
  return { heartbeatMs, electionMs, bounded: electionMs < wantedElection };
}

/**
 * How long before its lease could expire a holder stops (node-lease.ts): above one election timeout,
 * since a leader cut off from its quorum goes on answering keep-alives until raft notices; two.
 */
export const fenceMarginMs = (timings: RaftTimings): number => 2 * timings.electionMs;

export interface EtcdMemberPlan {
  /** the member's name: the station's */
  name: string;
  dataDir: string;
  /** the address it listens on and advertises (the station's mesh address) */
  address: string;
  clientPort?: number;
  peerPort?: number;
  /** every member of the cluster as name -> peer URL, this one included */
  cluster: Record<string, string>;
  /** new: the first members together; existing: joining a running cluster (after `member add`) */
  state: 'new' | 'existing';
  /** a token that keeps two clusters formed on one network apart */
  clusterToken: string;
  timings: RaftTimings;
}

export const peerUrl = (address: string, port = ETCD_PEER_PORT): string => `http://${address}:${port}`;
export const clientUrl = (address: string, port = ETCD_CLIENT_PORT): string => `http://${address}:${port}`;

/** The member's argv (pure). */
export function etcdArgv(plan: EtcdMemberPlan): string[] {
  const client = clientUrl(plan.address, plan.clientPort);
  const peer = peerUrl(plan.address, plan.peerPort);
  if (plan.cluster[plan.name] !== peer) throw new Error(`the cluster list must name ${plan.name} at ${peer}`);
  return [
    'etcd',
    '--name',
    plan.name,
    '--data-dir',
    plan.dataDir,
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    Object.entries(plan.cluster)
      .map(([name, url]) => `${name}=${url}`)
      .join(','),
    '--initial-cluster-state',
    plan.state,
    '--initial-cluster-token',
    plan.clusterToken,
    // a member back from a partition does not force an election on the others (off by default in 3.4):
    // without it the healed station's higher term stalled the new holder's renewals past the fence
    '--pre-vote',
    '--heartbeat-interval',
    String(plan.timings.heartbeatMs),
    '--election-timeout',
    String(plan.timings.electionMs),
    // small homes, small data: a few MB of leases and names, compacted hourly
    '--auto-compaction-mode',
    'periodic',
    '--auto-compaction-retention',
    '1h',
    '--quota-backend-bytes',
    String(256 * 2 ** 20),
    '--logger',
    'zap',
    '--log-outputs',
    'stderr',
  ];
}

/** etcd 3.4 refuses to start on arm64 (a Raspberry Pi) unless told the platform is accepted. */
export const etcdEnvironment = (machine = arch()): Record<string, string> => (machine === 'arm64' ? { ETCD_UNSUPPORTED_ARCH: 'arm64' } : {});

export interface EtcdMemberOptions {
  pidFile: string;
  log: Logger;
  /** the argv to run (etcdArgv, possibly wrapped: `ip netns exec` in tests) */
  argv: string[];
  onReady?: () => void;
  /** it exited (why, with etcd's last line) */
  onExit?: (why: string) => void;
}

/** etcd 3.4 says it serves clients (its zap log line, measured: after it published itself to the cluster). */
const READY = /"msg":"serving client traffic (in)?securely/;

export class EtcdMember extends SupervisedProcess {
  private readonly options: EtcdMemberOptions;
  /** true once etcd said it serves clients, until it exits */
  ready = false;

  constructor(options: EtcdMemberOptions) {
    super({ label: 'etcd', pidFile: options.pidFile, log: options.log, keepLines: 50, exitWithLastLine: true, unrefRestart: true });
    this.options = options;
  }

  protected override command(): string[] {
    const env = Object.entries(etcdEnvironment()).map(([k, v]) => `${k}=${v}`);
    return env.length ? ['env', ...env, ...this.options.argv] : this.options.argv;
  }

  protected override onLine(line: string, current: boolean): void {
    if (!current || this.ready || !READY.test(line)) return;
    this.ready = true;
    this.options.onReady?.();
  }

  protected override onExit(why: string): void {
    this.ready = false;
    this.options.onExit?.(why);
  }
}
