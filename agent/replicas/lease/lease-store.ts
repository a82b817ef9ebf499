// The owner's lease store as this station takes part in it: its etcd member (run and supervised by
// the agent on the station's mesh address, data under <stateDir>/replicas/etcd), and, on the owner's
// authority, the membership rounds that keep three or five of the owner's stations members
// (membership-round.ts). The authority starts a one-member cluster when the mesh exists; it adds a
// station as a learner, tells it over the mesh to start its member (join), promotes it once it runs,
// and removes members whose station is gone (`replicasMemberLostSeconds`). Every station reads the
// members and the leader each round, for status and for the clients of the node leases.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.ts';
import type { EventBus } from '../../events.ts';
import { hasProgram } from '../../exec.ts';
import { endStale } from '../../lib/processes.ts';
import { SerialQueue } from '../../lib/serial-queue.ts';
import type { Logger } from '../../log.ts';
import type { MeshInfo } from '../../mesh/mesh-info.ts';
import type { PeerView } from '../../mesh/peers.ts';
import type { SubsystemHealth } from '../../subsystem.ts';
import { EtcdClient } from './etcd-client.ts';
import type { EtcdMemberInfo } from './etcd-gateway.ts';
import { clientUrl, EtcdMember, etcdArgv, fenceMarginMs, peerUrl, type RaftTimings, raftTimings } from './etcd-member.ts';
import { type LeaseStoreRecord, readLeaseStoreRecord, writeLeaseStoreRecord } from './lease-store-record.ts';
import { joiningCluster } from './membership.ts';
import { membershipAction, type MemberStation } from './membership-round.ts';

/** What the authority asks of another station over the mesh (api/routes/replicas.ts). */
export interface LeaseStorePeers {
  join(peer: PeerView, request: { cluster: Record<string, string>; clusterToken: string }): Promise<void>;
  leave(peer: PeerView): Promise<void>;
}

export interface LeaseStoreDeps {
  config: Config;
  log: Logger;
  events: EventBus;
  mesh: { info(): MeshInfo; peers(): PeerView[] };
  peers: LeaseStorePeers;
}

export interface LeaseStoreReport {
  /** this station's member: none (not a member), starting, or serving */
  member: 'none' | 'starting' | 'serving';
  reason: string | null;
  members: { name: string; learner: boolean; leader: boolean }[];
  /** voters: automatic failover needs three */
  voters: number;
}

/** etcd's last words when its member was removed from the cluster */
const REMOVED = /permanently removed|has already been removed|the member has been removed/i;

export class LeaseStore {
  private readonly deps: LeaseStoreDeps;
  private readonly queue = new SerialQueue();
  private readonly dir: string;
  private member: EtcdMember | null = null;
  private record: LeaseStoreRecord | null = null;
  private available = true;
  private offReason: string | null = 'not started';
  private members: EtcdMemberInfo[] = [];
  private leaderId: string | null = null;
  private readError: string | null = null;
  private readOnce = false;
  private readonly learnersSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** the raft timings this station's member runs with (null: it runs none) */
  private timings: RaftTimings | null = null;
  /** the mesh's round trips asked for raft timings longer than the lease TTL allows (why, for status) */
  private slowMesh: string | null = null;

  constructor(deps: LeaseStoreDeps) {
    this.deps = deps;
    this.dir = join(deps.config.stateDir, 'replicas');
  }

  private get dataDir(): string {
    return join(this.dir, 'etcd');
  }

  private get pidFile(): string {
    return join(this.dir, 'etcd.pid');
  }

  async start(): Promise<void> {
    this.available = await hasProgram('etcd');
    endStale(this.pidFile, 'etcd', this.dataDir);
    this.record = await readLeaseStoreRecord(this.dir);
    this.timer = setInterval(() => void this.round(), this.deps.config.replicasRoundSeconds * 1000);
    this.timer.unref();
    await this.round();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.queue.run(() => this.stopMember());
  }

  /** A client of the owner's lease store: this station's member first, then the members it knows. */
  client(timeoutMs = 2000): EtcdClient | null {
    const urls = [this.member?.ready ? this.ownClientUrl() : null, ...this.members.flatMap((m) => m.clientUrls)].filter((u): u is string => !!u);
    return urls.length ? new EtcdClient({ endpoints: [...new Set(urls)], timeoutMs }) : null;
  }

  /** Voting members as last read (null: not read since the agent started). */
  voters(): number | null {
    return this.readOnce ? this.members.filter((m) => !m.learner).length : null;
  }

  /**
   * How long before its lease could expire a holder stops: from this station's member's timings, or
   * (where it runs none) from those the mesh's round trips ask for now, as the members' did.
   */
  fenceMarginMs(): number {
    return fenceMarginMs(this.timings ?? this.timingsForMesh().timings);
  }

  report(): LeaseStoreReport {
    const member = !this.member ? 'none' : this.member.ready ? 'serving' : 'starting';
    const members = this.members.map((m) => ({ name: m.name || '(starting)', learner: m.learner, leader: m.id === this.leaderId }));
    const reason = this.offReason ?? this.readError ?? this.slowMesh;
    return { member, reason, members, voters: members.filter((m) => !m.learner).length };
  }

  health(): SubsystemHealth {
    if (this.offReason) return { state: 'off', reason: this.offReason };
    if (this.member && !this.member.ready)
      return this.member.restarts > 0
        ? { state: 'degraded', reason: `the lease store's member keeps stopping (${this.member.lastExit ?? 'unknown'})` }
        : { state: 'starting', reason: "the lease store's member is starting" };
    if (this.readError) return { state: 'degraded', reason: this.readError };
    if (this.slowMesh) return { state: 'degraded', reason: this.slowMesh };
    return { state: 'ok' };
  }

  /** The authority asked this station to run a member of the owner's cluster (it was added as a learner). */
  join(request: { cluster: Record<string, string>; clusterToken: string }): Promise<void> {
    return this.queue.run(async () => {
      const info = this.deps.mesh.info();
      if (!info.address || request.cluster[info.name] !== peerUrl(info.address))
        throw new Error(`the cluster list does not name ${info.name} at its mesh address`);
      await this.stopMember();
      await rm(this.dataDir, { recursive: true, force: true }); // a joining member starts empty
      this.record = { owner: info.owner ?? '', cluster: request.cluster, clusterToken: request.clusterToken, state: 'existing' };
      await writeLeaseStoreRecord(this.dir, this.record);
      this.startMember(info);
      this.deps.log.info({ cluster: Object.keys(request.cluster) }, "lease store: joining the owner's cluster");
    });
  }

  /** This station's member was removed from the cluster: stop it and forget it. */
  leave(why: string): Promise<void> {
    return this.queue.run(() => this.forget(why));
  }

  /** One round: the member follows the mesh; members and leader are read; the authority makes one change. */
  private round(): Promise<void> {
    return this.queue.run(async () => {
      try {
        await this.roundNow();
      } catch (error) {
        this.deps.log.warn({ err: error }, 'lease store round failed; tried again at the next');
      }
    });
  }

  private async roundNow(): Promise<void> {
    const info = this.deps.mesh.info();
    if (!this.available) return this.off('etcd is not installed (Debian package "etcd-server")');
    if (info.state === 'none' || info.state === 'revoked' || !info.address || !info.owner) {
      if (this.record) await this.forget(`this station is ${info.state === 'revoked' ? 'revoked' : 'in no mesh'}`);
      return this.off(info.state === 'revoked' ? 'this station was revoked from its mesh' : 'this station is in no mesh');
    }
    this.offReason = null;
    if (this.record && this.record.owner !== info.owner) await this.forget("the station joined another owner's mesh");
    if (!this.record && info.role === 'authority') {
      await rm(this.dataDir, { recursive: true, force: true });
      this.record = {
        owner: info.owner,
        cluster: { [info.name]: peerUrl(info.address) },
        clusterToken: `station-${info.owner}-${info.caFingerprint?.slice(0, 16)}`,
        state: 'new',
      };
      await writeLeaseStoreRecord(this.dir, this.record);
      this.deps.log.info('lease store: a one-member cluster on the authority');
    }
    if (this.record && !this.member) this.startMember(info);
    await this.read();
    if (info.role === 'authority' && this.member?.ready && !this.readError) await this.changeMembership(info);
  }

  private async read(): Promise<void> {
    const client = this.client() ?? this.peersClient();
    if (!client) return;
    try {
      this.members = await client.members();
      this.leaderId = await this.leader(client);
      this.readError = null;
      this.readOnce = true;
    } catch (error) {
      this.readError = `the lease store does not answer: ${(error as Error).message}`;
    }
  }

  /**
   * The leader's member id, as the first member that answers says (this station's own first): a
   * member whose station is gone must not stop the reading, or the authority would never remove it.
   */
  private async leader(client: EtcdClient): Promise<string | null> {
    const own = this.member?.ready ? this.ownClientUrl() : null;
    const voters = this.members.filter((m) => !m.learner).flatMap((m) => m.clientUrls.slice(0, 1));
    for (const url of [...new Set([own, ...voters])]) {
      if (!url) continue;
      const leader = await client.status(url).then(
        (status) => status.leader,
        () => undefined,
      );
      if (leader !== undefined) return leader;
    }
    return null;
  }

  /** A station that runs no member (yet) asks the owner's stations' client ports. */
  private peersClient(): EtcdClient | null {
    const owner = this.deps.mesh.info().owner;
    const urls = this.deps.mesh
      .peers()
      .filter((p) => p.owner === owner && p.online && !p.revoked)
      .map((p) => clientUrl(p.address));
    return urls.length ? new EtcdClient({ endpoints: urls, timeoutMs: 1500 }) : null;
  }

  private async changeMembership(info: MeshInfo): Promise<void> {
    const lostMs = this.deps.config.replicasMemberLostSeconds * 1000;
    const now = Date.now();
    const peers = this.deps.mesh.peers().filter((p) => p.owner === info.owner && !p.revoked);
    const present = (p: PeerView) => p.online || (p.lastSeen !== null && now - Date.parse(p.lastSeen) < lostMs);
    const stations: MemberStation[] = [
      { name: info.name, address: info.address!, present: true },
      ...peers.map((p) => ({ name: p.name, address: p.address, present: present(p) })),
    ];
    for (const m of this.members) if (m.learner && !this.learnersSince.has(m.id)) this.learnersSince.set(m.id, now);
    const action = membershipAction(this.members, stations, this.learnersSince, now, info.name);
    if (!action) return;
    const client = this.client()!;
    const peer = peers.find((p) => p.name === action.station);
    try {
      if (action.kind === 'add') {
        const added = await client.addMember(peerUrl(action.address), { learner: true });
        this.learnersSince.set(added.id, now);
        const cluster = joiningCluster(added.members, action.station, peerUrl(action.address));
        await this.deps.peers.join(peer!, { cluster, clusterToken: this.record!.clusterToken }).catch(async (error: Error) => {
          await client.removeMember(added.id); // a learner: removing it needs no vote of its own
          throw error;
        });
        this.deps.events.publish('replicas.member.added', { name: action.station });
      } else if (action.kind === 'promote') {
        await client.promoteMember(action.id);
        this.deps.events.publish('replicas.member.promoted', { name: action.station });
      } else {
        await client.removeMember(action.id);
        this.learnersSince.delete(action.id);
        this.deps.events.publish('replicas.member.removed', { name: action.station, why: action.why });
        if (peer?.online) await this.deps.peers.leave(peer).catch(() => undefined); // its member also stops by itself
      }
      this.deps.log.info({ action }, 'lease store: membership changed');
      await this.read();
    } catch (error) {
      // "unhealthy cluster" (a member just joined or left), "not in sync" (a learner catching up): next round
      this.deps.log.info({ action, reason: (error as Error).message }, 'lease store: membership change not made now');
    }
  }

  private ownClientUrl(): string | null {
    const address = this.deps.mesh.info().address;
    return address ? clientUrl(address) : null;
  }

  private startMember(info: MeshInfo): void {
    const record = this.record!;
    const { timings, slow } = this.timingsForMesh();
    this.timings = timings;
    this.slowMesh = slow;
    if (slow) this.deps.log.warn({ timings }, `lease store: ${slow}`);
    const argv = etcdArgv({
      name: info.name,
      dataDir: this.dataDir,
      address: info.address!,
      cluster: record.cluster,
      state: record.state,
      clusterToken: record.clusterToken,
      timings,
    });
    const member: EtcdMember = new EtcdMember({
      pidFile: this.pidFile,
      log: this.deps.log.child({ engine: 'etcd' }),
      argv: ['setpriv', '--pdeathsig', 'KILL', ...argv],
      // read the members at once rather than at the next round
      onReady: () => void this.round(),
      onExit: (why) => {
        if (member === this.member && member.tail().some((line) => REMOVED.test(line))) void this.leave(`etcd says this member was removed (${why})`);
      },
    });
    this.member = member;
    member.start();
  }

  /** Raft timings for the mesh's slowest round trip now, bounded by the lease TTL (and why, when bounded). */
  private timingsForMesh(): { timings: RaftTimings; slow: string | null } {
    const worstRtt = Math.max(50, ...this.deps.mesh.peers().map((p) => p.latencyMs ?? 0));
    const leaseSeconds = this.deps.config.replicasLeaseSeconds;
    const { bounded, ...timings } = raftTimings(worstRtt, leaseSeconds * 1000);
    const slow = bounded
      ? `the mesh's round trips (up to ${worstRtt} ms) ask for a longer raft election timeout than a ${leaseSeconds} s lease allows ` +
        `(${timings.electionMs} ms used): leases may change hands on a slow moment; raise replicasLeaseSeconds`
      : null;
    return { timings, slow };
  }

  private async stopMember(): Promise<void> {
    const member = this.member;
    this.member = null;
    this.timings = null;
    await member?.stop();
  }

  private async forget(why: string): Promise<void> {
    await this.stopMember();
    await rm(this.dataDir, { recursive: true, force: true });
    await rm(join(this.dir, 'lease-store.json'), { force: true });
    this.record = null;
    this.members = [];
    this.deps.log.info({ why }, 'lease store: this station runs no member now');
  }

  private off(reason: string): void {
    this.offReason = reason;
    this.members = [];
  }
}
