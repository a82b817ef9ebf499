// The disk room's `copies` part: every node's newest snapshot set copied (restic, the owner's key)
// to `disk.copies` peer stores every `disk.backupSeconds`, and on demand. Placement is re-decided
// each run (placement.ts): a copy on a peer lost longer than diskPeerLostSeconds, revoked, or found
// damaged by the scheduled check is replaced on another peer. Work on one node runs one at a time;
// the state (with the grants) is saved after every run. Off, with the reason, where the volume
// driver has no snapshots; idle, with the reason, outside a mesh or without the owner's key.
import { mkdir } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { Writable } from 'node:stream';
import { NotFoundError, UnavailableError, ValidationError } from '../../errors.ts';
import { SerialQueue } from '../../lib/serial-queue.ts';
import { nodeDisk } from '../../nodes/spec.ts';
import type { NodeView } from '../../nodes/view.ts';
import { LABEL } from '../../storage/layout.ts';
import type { SubsystemHealth } from '../../subsystem.ts';
import { ownerDiskKey, ownerKeyFile } from '../owner-key.ts';
import type { CopiesReport } from '../overview.ts';
import { checkFindRequest, type FindRequest, type FoundCopy, findCopy } from './copy-finder.ts';
import type { CopyDeps } from './copy-deps.ts';
import { type CopiesFile, type CopyRecord, loadCopies, saveCopies } from './copies-state.ts';
import { backUpSet, checkCopy, type CopyOutcome, ensureRepositories, type NodeCopyDeps, type SetToCopy } from './node-copies.ts';
import { httpStoreClient, type StoreClient } from './peer-client.ts';
import { type PeerCandidate, placeCopies } from './placement.ts';
import { copiesReport } from './report.ts';
import { PartWork } from '../part-work.ts';
import { Restic } from './restic.ts';
import { type NodeCreator, type RestoreResult, restoreNode } from './restore.ts';
import { StablePaths } from './stable-path.ts';
import { StoreGrants } from './store-grants.ts';
import { RetryBook } from '../../nodes/retries.ts';

const TICK_MS = 1000;
/**
 * A peer whose grant failed is tried again by the next placement, then after 15 s, 30 s, ... up to
 * 5 min while it keeps failing (a store that refuses for good is not asked every second; one that
 * failed once, as a peer just met over the mesh can, is not left out for minutes). A grant clears it.
 */
const GRANT_RETRY_BASE_MS = 15_000;

/** What the copies need of the snapshots part. */
export interface SnapshotSets {
  newest(node: string): Promise<{ name: string; createdAt: string; volumes: { volume: string }[] } | null>;
  /** keeps the set from being deleted while it is copied */
  pin?(node: string, name: string): () => void;
}

export interface CopyKeeperOptions {
  store?: StoreClient;
  /** restic's stall bound (tests shorten it) */
  stallSeconds?: number;
  /** what each check reads back (default 10%: over ten checks, about all of it) */
  checkSubset?: string;
  /** run restic in this network namespace (tests: the peers' stores live in one) */
  netns?: string;
}

// a DiskPart (agent/disk/disk-subsystem.ts) by shape: name, start, stop, health
export class CopyKeeper {
  readonly name = 'copies';
  private readonly deps: CopyDeps;
  private readonly sets: SnapshotSets;
  private readonly store: StoreClient;
  private readonly checkSubset: string;
  // one run at a time, every node: a store's grant is per station (store-grants.ts), and two runs
  // renewing it at once would cut each other off; it also keeps restic's load to one process
  private readonly runs = new SerialQueue();
  private readonly queued = new Map<string, number>();
  private readonly grants: StoreGrants;
  private readonly stable: StablePaths;
  private readonly restic: Restic;
  private state: CopiesFile = { version: 1, nodes: {} };
  private offReason: string | null = 'not started';
  private idleReason: string | null = null;
  private readonly lastRun = new Map<string, number>();
  private readonly offlineSince = new Map<string, number>();
  /** peers looked at before: a peer's first look (offline until its first ping at start) is no change */
  private readonly peersSeen = new Set<string>();
  private readonly grantRetries = new RetryBook(GRANT_RETRY_BASE_MS);
  private readonly nodeReason = new Map<string, string>();
  private readonly work = new PartWork();

  constructor(deps: CopyDeps, sets: SnapshotSets, options: CopyKeeperOptions = {}) {
    this.deps = deps;
    this.sets = sets;
    this.store = options.store ?? httpStoreClient;
    this.checkSubset = options.checkSubset ?? '10%';
    const save = () => saveCopies(deps.config.stateDir, this.state);
    this.grants = new StoreGrants({ store: this.store, mesh: deps.mesh, events: deps.events, state: () => this.state, save });
    const stateDir = deps.config.stateDir;
    this.stable = new StablePaths({ run: deps.run, stateDir });
    this.restic = new Restic({
      run: deps.run,
      passwordFile: ownerKeyFile(stateDir),
      cacheDir: join(stateDir, 'disk', 'restic-cache'),
      stallSeconds: options.stallSeconds,
      netns: options.netns,
    });
  }

  async start(): Promise<void> {
    const driver = this.deps.nodes.volumeDriver();
    if (!driver) return void (this.offReason = 'the nodes are off: no volumes to copy');
    if (!driver.supports.snapshots) return void (this.offReason = `the ${driver.name} volume driver has no snapshots to copy from (volumes on btrfs have)`);
    await mkdir(join(this.deps.config.stateDir, 'disk', 'restic-cache'), { recursive: true, mode: 0o700 });
    this.state = await loadCopies(this.deps.config.stateDir);
    await this.stable.unmountAll(); // a killed agent's backup left its mounts
    this.offReason = null;
    this.work.every(TICK_MS, () => this.tick());
  }

  stop(): Promise<void> {
    return this.work.stop();
  }

  health(): SubsystemHealth {
    if (this.offReason) return { state: 'off', reason: this.offReason };
    if (this.idleReason) return { state: 'off', reason: this.idleReason };
    const short = [...this.nodeReason].map(([node, why]) => `${node}: ${why}`);
    return short.length ? { state: 'degraded', reason: short.join('; ') } : { state: 'ok' };
  }

  /** A run now for one node (POST /disk/backup/:node): placement, repositories, backup. */
  backup(node: string): Promise<CopyOutcome[]> {
    checkFindRequest({ node });
    if (this.offReason) throw new UnavailableError('DISK_COPIES_OFF', `copies are off: ${this.offReason}`);
    if (!this.deps.nodes.list().some((n) => n.name === node)) throw new NotFoundError('NODE_NOT_FOUND', `node ${node} does not exist`);
    this.lastRun.set(node, Date.now());
    return this.enqueue(node, () => this.runNode(node, true));
  }

  /** Brings node back on this station from the newest copy a peer holds (POST /disk/restore). */
  restore(request: FindRequest, creator: NodeCreator | null): Promise<RestoreResult> {
    checkFindRequest(request); // bad input is a 400 whatever the state
    if (this.offReason) throw new UnavailableError('DISK_COPIES_OFF', `copies are off: ${this.offReason}`);
    const deps = { nodes: this.deps.nodes, events: this.deps.events, restic: this.restic, find: (r: FindRequest) => this.find(r), creator };
    return this.enqueue(request.node, () => restoreNode(deps, request));
  }

  /** One file of a node's volume from its newest copy (or the one asked for), streamed to `to`. */
  async readFile(request: FindRequest & { volume: string; path: string }, to: Writable): Promise<FoundCopy> {
    if (!LABEL.test(request.volume)) throw new ValidationError('INVALID_VOLUME_NAME', `volume name ${JSON.stringify(request.volume)} is not a DNS label`);
    const path = normalize(`/${request.path}`);
    if (path === '/' || path.includes('\0')) throw new ValidationError('INVALID_PATH', 'name a file inside the volume');
    checkFindRequest(request);
    if (this.offReason) throw new UnavailableError('DISK_COPIES_OFF', `copies are off: ${this.offReason}`);
    // in the queue: its grant replaces this station's password on that store (store-grants.ts)
    return this.enqueue(request.node, async () => {
      const found = await this.find(request);
      await this.restic.dump(found.repo, found.snapshot.id, `/volumes/${request.volume}${path}`, to);
      return found;
    });
  }

  private async find(request: FindRequest): Promise<FoundCopy> {
    if (!(await ownerDiskKey(this.deps.config.stateDir)))
      throw new UnavailableError('DISK_NO_KEY', "this station has not received its owner's disk key: it cannot read copies");
    return findCopy({ mesh: this.deps.mesh, store: this.store, restic: this.restic }, request);
  }

  /** For GET /disk and GET /disk/copies: want/have and each copy. */
  report(node: string): CopiesReport | null {
    if (this.offReason) return null;
    const view = this.deps.nodes.list().find((n) => n.name === node);
    // a node without volumes has nothing to copy: it wants none
    const want = view?.spec.volumes?.length ? nodeDisk(view.spec).copies : 0;
    return copiesReport(want, this.state.nodes[node] ?? [], this.nodeReason.get(node) ?? this.idleReason, this.offlineSince);
  }

  /** Every node's copies (GET /disk/copies). */
  reports(): { node: string; copies: CopiesReport | null }[] {
    return this.deps.nodes.list().map((n) => ({ node: n.name, copies: this.report(n.name) }));
  }

  // ---- inside ----

  private enqueue<T>(node: string, task: () => Promise<T>): Promise<T> {
    this.queued.set(node, (this.queued.get(node) ?? 0) + 1);
    const done = () => {
      const left = (this.queued.get(node) ?? 1) - 1;
      if (left > 0) this.queued.set(node, left);
      else this.queued.delete(node);
    };
    return this.work.track(this.runs.run(task).finally(done));
  }

  private tick(): void {
    const now = Date.now();
    for (const p of this.deps.mesh.peers()) {
      const wasOffline = this.offlineSince.has(p.name);
      if (p.online) this.offlineSince.delete(p.name);
      else if (!wasOffline) this.offlineSince.set(p.name, now);
      // its copies stop (or start again) counting: say so, or the page (which reloads on disk.* events) shows them current
      if (this.peersSeen.has(p.name) && p.online === wasOffline) this.peerChanged(p.name, p.online);
      this.peersSeen.add(p.name);
    }
    for (const view of this.deps.nodes.list()) {
      if (view.state === 'deleting' || !view.spec.volumes?.length || this.queued.has(view.name)) continue;
      const every = nodeDisk(view.spec).backupSeconds * 1000;
      const last = this.lastRun.get(view.name);
      // backupSeconds 0 turns the schedule off (on demand only), as for snapshots
      const backupDue = every > 0 && (last === undefined || now - last >= every);
      const checkDue = this.checkDue(view.name, now);
      if (!backupDue && !checkDue) continue;
      if (backupDue) this.lastRun.set(view.name, now);
      const work = async () => {
        if (checkDue) await this.checkNode(view.name);
        if (backupDue) await this.runNode(view.name, false);
      };
      this.enqueue(view.name, work).catch(() => undefined);
    }
  }

  private peerChanged(station: string, online: boolean): void {
    for (const [node, copies] of Object.entries(this.state.nodes)) {
      if (copies.some((c) => c.station === station && !c.damaged)) this.deps.events.publish('disk.copy.peer', { node, station, online });
    }
  }

  private checkDue(node: string, now: number): boolean {
    const every = this.deps.config.diskCheckSeconds * 1000;
    if (!every) return false;
    return (this.state.nodes[node] ?? []).some((c) => c.initialized && !c.damaged && c.lastSuccess && now - Date.parse(c.lastCheck ?? c.placedAt) >= every);
  }

  /** Checks every copy of a node now (a damaged one is replaced at the node's next run). */
  check(node: string): Promise<void> {
    return this.enqueue(node, () => this.checkNode(node, true));
  }

  private async checkNode(node: string, all = false): Promise<void> {
    const deps = await this.nodeDeps();
    if (!deps) return;
    await this.grants.renewAll(node, this.state.nodes[node] ?? [], new Set());
    const every = this.deps.config.diskCheckSeconds * 1000;
    for (const c of this.state.nodes[node] ?? []) {
      const due = all || Date.now() - Date.parse(c.lastCheck ?? c.placedAt) >= every;
      if (c.initialized && !c.damaged && c.lastSuccess && due) await checkCopy(deps, node, c, this.checkSubset);
    }
    await saveCopies(this.deps.config.stateDir, this.state);
  }

  /** What a run needs, or null (and the reason, for health) when this station cannot copy now. */
  private async nodeDeps(): Promise<NodeCopyDeps | null> {
    const info = this.deps.mesh.info();
    if (info.state !== 'up' || !info.owner)
      this.idleReason = info.state === 'none' ? 'this station is in no mesh: no peers to copy to' : `the mesh is ${info.state}`;
    else if (!(await ownerDiskKey(this.deps.config.stateDir))) this.idleReason = "this station has not received its owner's disk key yet";
    else this.idleReason = null;
    if (this.idleReason) return null;
    const regrant = async (station: string) => void (await this.grants.renew(station));
    return { restic: this.restic, stable: this.stable, events: this.deps.events, log: this.deps.log, host: info.name, regrant };
  }

  private async runNode(node: string, onDemand: boolean): Promise<CopyOutcome[]> {
    const deps = await this.nodeDeps();
    if (!deps) {
      if (onDemand) throw new UnavailableError('DISK_COPIES_IDLE', `no copies now: ${this.idleReason}`);
      return [];
    }
    const view = this.deps.nodes.list().find((n) => n.name === node);
    if (!view || view.state === 'deleting') return [];
    const set = await this.newestSet(view);
    if (!set) {
      this.nodeReason.set(node, 'no snapshot set to copy yet');
      if (onDemand) throw new UnavailableError('DISK_NO_SNAPSHOT', `node ${node} has no snapshot set to copy yet`);
      return [];
    }
    const copies = (this.state.nodes[node] ??= []);
    const { replacing, granted } = await this.place(view, copies);
    await this.grants.renewAll(node, copies, granted);
    await ensureRepositories(deps, node, copies, replacing);
    const release = this.sets.pin?.(node, set.name);
    try {
      const outcomes = await backUpSet(deps, node, view.spec, set, copies);
      const have = copies.filter((c) => !c.damaged && c.lastSet === set.name).length;
      const want = nodeDisk(view.spec).copies;
      if (have >= want) this.nodeReason.delete(node);
      else this.nodeReason.set(node, this.lastPlacementReason.get(node) ?? `${have} of ${want} copies hold the newest snapshot`);
      return outcomes;
    } finally {
      release?.();
      await saveCopies(this.deps.config.stateDir, this.state);
    }
  }

  private readonly lastPlacementReason = new Map<string, string>();

  /** Drops lost, revoked, damaged and surplus copies; grants new ones. Returns new station -> the one it
   * replaces, and the stores granted in this run. */
  private async place(view: NodeView, copies: CopyRecord[]): Promise<{ replacing: Map<string, string>; granted: Set<string> }> {
    const node = view.name;
    const info = this.deps.mesh.info();
    const now = Date.now();
    const peers = this.deps.mesh.peers().filter((p) => p.owner === info.owner && p.name !== info.name);
    const candidates: PeerCandidate[] = peers.map((p) => ({
      name: p.name,
      online: p.online,
      revoked: p.revoked,
      offlineSince: p.online ? null : (this.offlineSince.get(p.name) ?? now),
      freeBytes: this.grants.freeBytes.get(p.name) ?? null,
      latencyMs: p.latencyMs,
    }));
    const avoid = peers.filter((p) => !this.grantRetries.due(p.name, now)).map((p) => p.name);
    const needBytes = (view.spec.volumes ?? []).reduce((sum, v) => sum + (v.sizeMB ?? 0), 0) * 2 ** 20 * 0.1;
    const input = {
      self: info.name,
      want: nodeDisk(view.spec).copies,
      peers: candidates,
      current: copies,
      now,
      peerLostMs: this.deps.config.diskPeerLostSeconds * 1000,
      needBytes,
      avoid,
    };
    const plan = placeCopies(input);
    const gone: string[] = [];
    for (const d of plan.drop) {
      const i = copies.findIndex((c) => c.station === d.station);
      const [dropped] = i >= 0 ? copies.splice(i, 1) : [];
      if (dropped?.damaged) ((this.state.retired ??= {})[node] ??= []).push(`${dropped.station}/${dropped.repository}`);
      if (d.why !== 'surplus') gone.push(d.station);
      this.deps.events.publish('disk.copy.lost', { node, station: d.station, why: d.why });
    }
    const replacing = new Map<string, string>();
    const granted = new Set<string>();
    for (const station of plan.add) {
      try {
        const grant = await this.grants.renew(station);
        granted.add(station);
        this.grantRetries.clear(station);
        const repository = this.repositoryName(node, station);
        copies.push({
          station,
          repositoryBase: grant.repositoryBase,
          user: grant.user,
          password: grant.password,
          repository,
          initialized: false,
          placedAt: new Date().toISOString(),
          ...{
            lastSuccess: null,
            lastSnapshot: null,
            lastSet: null,
            lastSetAt: null,
            bytes: null,
            lastError: null,
            lastErrorAt: null,
            lastCheck: null,
            damaged: false,
          },
        });
        const from = gone.shift();
        if (from) replacing.set(station, from);
        this.deps.events.publish('disk.copy.placed', { node, station, repository });
      } catch (error) {
        this.grantRetries.failed(station, (error as Error).message, now);
        this.deps.events.publish('disk.copy.failed', {
          node,
          station,
          code: (error as { code?: string }).code ?? 'COPY_GRANT_FAILED',
          reason: (error as Error).message,
        });
      }
    }
    if (plan.reason) this.lastPlacementReason.set(node, plan.reason);
    else this.lastPlacementReason.delete(node);
    return { replacing, granted };
  }

  /** The node's name, or NAME.N when a damaged repository of that name sits on the store (append-only: it stays). */
  private repositoryName(node: string, station: string): string {
    const retired = new Set(this.state.retired?.[node] ?? []);
    let name = node;
    for (let n = 2; retired.has(`${station}/${name}`); n++) name = `${node}.${n}`;
    return name;
  }

  private async newestSet(view: NodeView): Promise<SetToCopy | null> {
    const driver = this.deps.nodes.volumeDriver();
    const set = await this.sets.newest(view.name).catch(() => null);
    if (!driver || !set) return null;
    const volumes = set.volumes.map((v) => ({ volume: v.volume, source: driver.snapshotSource({ node: view.name, volume: v.volume }, set.name) }));
    return { name: set.name, createdAt: set.createdAt, volumes };
  }
}
