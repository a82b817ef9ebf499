// The Virtual Private Mesh subsystem: owns mesh.json, the key files and the Nebula process; renders
// Nebula's config from the state (pure renderer) and keeps Nebula in line with it; members fetch
// lighthouses and the blocklist from their authority over the mesh every few seconds (upkeep.ts).
import { rm } from 'node:fs/promises';
import type { Config } from '../config/schema.ts';
import { ConflictError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import { hasProgram, type Runner } from '../exec.ts';
import type { Logger } from '../log.ts';
import type { StateDocument } from '../store/document.ts';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { MeshAuthority, type Directory, type EnrolReply, type EnrolRequest } from './authority.ts';
import type { CaExport } from './ca-export.ts';
import { caWarnings, trustCa, type TrustInput } from './community.ts';
import { identifyCaller } from './identity.ts';
import { ensureOwnerDiskKey } from '../disk/owner-key.ts';
import { MeshUpkeep } from './upkeep.ts';
import { meshInfo, type MeshInfo } from './mesh-info.ts';
import type { MeshContext } from './context.ts';
import { joinMesh } from './join.ts';
import { announceLeave, publicApiUrls } from './station-client.ts';
import { emptyMeshState, meshDocument, meshPaths, tunDevFor, type MemberRecord, type MeshPaths, type MeshState } from './mesh-state.ts';
import { NebulaCert } from './nebula-cert.ts';
import type { NebulaConfigInput } from './nebula-config.ts';
import { NebulaApplier } from './nebula-apply.ts';
import { NebulaProcess } from './nebula-process.ts';
import { PeerMonitor, type PeerView } from './peers.ts';

/** The nodes' Nebula firewall entries (the Network Node): read at each apply and on network.applied. */
export interface NodeFirewallSource {
  meshFirewall(): NonNullable<NebulaConfigInput['nodes']>;
}

/** Who moves the nodes into the subnet the authority allocated to this station (awaited at each apply). */
export interface NodeSubnetUser {
  useSubnet(cidr: string): Promise<void>;
}

export interface MeshDeps {
  config: Config;
  run: Runner;
  events: EventBus;
  log: Logger;
  nodeFirewall?: NodeFirewallSource;
  nodeSubnet?: NodeSubnetUser;
}

export type { MeshInfo } from './mesh-info.ts';

export class MeshSubsystem implements Subsystem {
  readonly name = 'mesh';
  private readonly deps: MeshDeps;
  private readonly doc: StateDocument<MeshState>;
  private readonly paths: MeshPaths;
  private readonly ctx: MeshContext;
  private readonly nebula: NebulaProcess;
  private readonly monitor: PeerMonitor;
  readonly authority: MeshAuthority;
  private available = true;
  private readonly applier: NebulaApplier;
  private readonly upkeep: MeshUpkeep;
  private startError: string | undefined;
  private notifiedSubnet = '';
  /** what mesh.peers last said (undefined: nothing yet, so the first look is always published) */
  private announcedPeers: string | undefined;
  private unsubscribe: (() => void) | undefined;
  private caWarnings: string[] = [];
  private casChecked = '';

  constructor(deps: MeshDeps) {
    this.deps = deps;
    this.doc = meshDocument(deps.config.stateDir);
    this.paths = meshPaths(deps.config.stateDir);
    this.ctx = {
      doc: this.doc,
      paths: this.paths,
      cert: new NebulaCert(deps.run),
      config: deps.config,
      events: deps.events,
      apply: () => this.apply(),
      now: () => new Date(),
    };
    this.monitor = new PeerMonitor(deps.run);
    this.nebula = new NebulaProcess({
      configFile: this.paths.config,
      pidFile: this.paths.pid,
      logFile: this.paths.log,
      log: deps.log.child({ engine: 'nebula' }),
      onEvent: (e) => this.monitor.onNebulaEvent(e),
    });
    this.authority = new MeshAuthority(this.ctx);
    this.applier = new NebulaApplier({
      config: deps.config,
      paths: this.paths,
      nebula: this.nebula,
      nodeFirewall: () => this.nodeFirewall(),
      onDeferredRestart: () => this.upkeep.probeSoon(),
    });
    this.upkeep = new MeshUpkeep({
      doc: this.doc,
      monitor: this.monitor,
      nebula: this.nebula,
      events: deps.events,
      log: deps.log,
      syncSeconds: deps.config.meshSyncSeconds,
      stateDir: deps.config.stateDir,
      apply: () => this.apply(),
      changed: () => this.announcePeers(),
    });
  }

  async start(): Promise<void> {
    this.available = (await hasProgram('nebula')) && (await hasProgram('nebula-cert'));
    await this.doc.load();
    NebulaProcess.killStale(this.paths.pid, this.paths.config);
    if (this.available && this.doc.get().role !== 'none') {
      // A broken mesh must not keep the station from starting: it shows as degraded instead.
      await this.apply().catch((error: unknown) => {
        this.startError = (error as Error).message;
        this.deps.log.error({ err: error }, 'mesh could not start');
      });
    }
    // Node policies changed: their Nebula firewall entries may have too (apply reloads only on change).
    this.unsubscribe = this.deps.events.subscribe((e) => {
      if (e.type === 'network.applied' && this.deps.nodeFirewall)
        void this.apply().catch((error: unknown) => this.deps.log.warn({ err: error }, 'mesh firewall update failed'));
    });
    this.upkeep.start();
    this.announcePeers();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.upkeep.stop();
    this.applier.reset();
    await this.nebula.stop();
  }

  health(): SubsystemHealth {
    if (!this.available) return { state: 'off', reason: 'nebula or nebula-cert is not installed' };
    const s = this.doc.get();
    if (s.role === 'none') return { state: 'ok', reason: 'in no mesh yet' };
    if (s.revokedAt) return { state: 'degraded', reason: `the authority revoked this station at ${s.revokedAt}` };
    if (!this.nebula.running) return { state: 'degraded', reason: `nebula is not running (${this.startError ?? this.nebula.lastExit ?? 'starting'})` };
    if (this.upkeep.syncError) return { state: 'degraded', reason: this.upkeep.syncError };
    return this.caWarnings.length ? { state: 'ok', reason: this.caWarnings.join('; ') } : { state: 'ok' };
  }

  summary(): Record<string, unknown> {
    const s = this.doc.get();
    return {
      role: s.role,
      owner: s.owner || null,
      address: s.address || null,
      members: s.members.filter((m) => !m.revokedAt).length,
      ...(this.caWarnings.length ? { warnings: this.caWarnings } : {}),
    };
  }

  info(): MeshInfo {
    const n = this.nebula;
    return meshInfo(
      this.doc.get(),
      {
        running: n.running,
        pid: n.pid ?? null,
        restarts: n.restarts,
        tunDev: tunDevFor(this.deps.config.stateDir, this.deps.config.meshTunDev),
      },
      this.deps.config.name,
    );
  }

  private assertAvailable(): void {
    if (!this.available) throw new UnavailableError('MESH_UNAVAILABLE', 'the mesh needs nebula and nebula-cert (Debian package "nebula")');
  }

  async create(owner: string): Promise<MeshInfo> {
    this.assertAvailable();
    await this.authority.create(owner);
    return this.info();
  }

  async invite(expiresInSeconds?: number): Promise<{ code: string; id: string; expiresAt: string }> {
    this.assertAvailable();
    return this.authority.invite({ expiresInSeconds, api: publicApiUrls(this.deps.config) });
  }

  async join(code: string): Promise<MeshInfo> {
    this.assertAvailable();
    await joinMesh(this.ctx, code);
    return this.info();
  }

  enrol(request: EnrolRequest): Promise<EnrolReply> {
    this.assertAvailable();
    return this.authority.enrol(request);
  }

  revoke(name: string): Promise<MemberRecord> {
    return this.afterwards(this.authority.revoke(name));
  }

  /** Lets a revoked name enrol again (authority only); its old certificates stay blocked. */
  readmit(name: string): Promise<MemberRecord> {
    return this.afterwards(this.authority.readmit(name));
  }

  /** A change the authority made without a Nebula apply is still announced (mesh.peers). */
  private async afterwards<T>(change: Promise<T>): Promise<T> {
    const result = await change;
    this.announcePeers();
    return result;
  }

  exportCa(passphrase: string): Promise<CaExport> {
    return this.authority.exportCa(passphrase);
  }

  peers(): PeerView[] {
    return this.monitor.view(this.doc.get(), new Date());
  }

  /**
   * The station-to-station identity of a caller: Nebula guarantees the source address inside the
   * tunnel and its firewall admits our range only from our CA, so a request that arrived on our mesh
   * address from a member's address in our range is that member (identity.ts). Anything else is refused.
   */
  identify(remoteAddress: string, localAddress: string | undefined): MemberRecord {
    return identifyCaller(this.doc.get(), remoteAddress, localAddress);
  }

  /** For identified members only: it carries the owner's disk key (made here for a mesh made before disk keys). */
  async directory(remoteAddress: string, localAddress: string | undefined): Promise<Directory> {
    this.identify(remoteAddress, localAddress);
    if (this.doc.get().role !== 'authority') throw new ConflictError('MESH_NOT_AUTHORITY', 'this station is not the authority of its mesh');
    const directory = this.authority.directory(this.monitor.online(this.doc.get(), new Date()));
    return { ...directory, diskKey: await ensureOwnerDiskKey(this.deps.config.stateDir) };
  }

  /** A member announces over the mesh that it leaves: its certificate is blocked like a revocation. */
  async memberLeaves(remoteAddress: string, localAddress: string | undefined): Promise<MemberRecord> {
    const member = this.identify(remoteAddress, localAddress);
    return this.afterwards(this.authority.revoke(member.name, { left: true }));
  }

  async leave(): Promise<MeshInfo> {
    const s = this.doc.get();
    if (s.role === 'none') throw new ConflictError('MESH_NOT_MEMBER', 'this station is in no mesh');
    if (s.role === 'authority' && s.members.some((m) => m.address !== s.address && !m.revokedAt)) {
      throw new ConflictError(
        'MESH_AUTHORITY_HAS_MEMBERS',
        'the authority cannot leave while other stations are members; revoke them first (or export the CA to move it)',
      );
    }
    if (s.role === 'member' && s.authority && !s.revokedAt) {
      await announceLeave(s.authority);
    }
    await this.nebula.stop();
    await rm(this.paths.dir, { recursive: true, force: true });
    await this.doc.update(() => emptyMeshState());
    this.applier.reset();
    this.deps.events.publish('mesh.left', { owner: s.owner });
    this.announcePeers();
    return this.info();
  }

  async trust(input: TrustInput): Promise<MeshInfo> {
    this.assertAvailable();
    await trustCa(this.ctx, input);
    await this.apply();
    return this.info();
  }

  /** Warnings about CAs made or trusted before CAs were limited (community.ts), worked out once per change. */
  private async checkCas(s: MeshState): Promise<void> {
    const key = JSON.stringify([s.caFingerprint, s.trusted.map((t) => [t.fingerprint, t.subnets])]);
    if (key === this.casChecked) return;
    this.caWarnings = await caWarnings(this.ctx.cert, s);
    this.casChecked = key;
  }

  /** Brings Nebula in line with the state (agent/mesh/nebula-apply.ts), then tells the nodes their subnet. */
  private async apply(): Promise<void> {
    const s = this.doc.get();
    if (s.role === 'none' || !this.available) return;
    await this.checkCas(s);
    // A first look at the peers soon after (re)starting, rather than at the next 5 s tick.
    if ((await this.applier.apply(s)) === 'restarted') this.upkeep.probeSoon();
    // Before the nodes move: the network's reaction to the peers is then queued ahead of the move's
    // re-apply, which this apply awaits, so a create or join answers with the table already updated.
    this.announcePeers();
    await this.announceNodeSubnet(s.nodeSubnet ?? '');
  }

  /**
   * mesh.peers, with the peers' names: published when what this station knows of its peers changes
   * (who they are, their owners, addresses, node subnets, lighthouse roles) or its own Nebula comes
   * up or goes away, so followers (the Network Node) read peers() and info() again instead of polling.
   */
  private announcePeers(): void {
    const live = this.peers().filter((p) => !p.revoked);
    const key = JSON.stringify([this.info().state, this.doc.get().owner, live.map((p) => [p.name, p.owner, p.address, p.nodeSubnet, p.lighthouse])]);
    if (key === this.announcedPeers) return;
    this.announcedPeers = key;
    this.deps.events.publish('mesh.peers', { peers: live.map((p) => p.name).sort() });
  }

  private async announceNodeSubnet(cidr: string): Promise<void> {
    if (!cidr || cidr === this.notifiedSubnet || !this.deps.nodeSubnet) return;
    this.notifiedSubnet = cidr;
    await this.deps.nodeSubnet.useSubnet(cidr).catch((error: unknown) => {
      this.notifiedSubnet = '';
      this.deps.log.error({ err: error, nodeSubnet: cidr }, 'moving the nodes to the mesh node subnet failed; retried at the next change');
    });
  }

  private nodeFirewall(): NebulaConfigInput['nodes'] {
    if (!this.deps.nodeFirewall) return undefined;
    try {
      return this.deps.nodeFirewall.meshFirewall();
    } catch (error) {
      // Without the nodes' entries the mesh still works for the station itself.
      this.deps.log.warn({ err: error }, 'node firewall entries unavailable');
      return undefined;
    }
  }
}
