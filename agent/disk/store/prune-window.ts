// Pruning with the owner's authority, on the store's side (docs/disk-store.md): a signed request
// (prune-request.ts) is checked, logged and kept; no sooner than diskPruneDelaySeconds later, an
// owner's station asking for it gets a short-lived second rclone WITHOUT --append-only serving only
// that one repository, where it runs `restic forget --prune` with the owner's key (which the store
// never has). One window at a time, closed when the station says it is done or after WINDOW_MS.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../../errors.ts';
import type { MemberRecord } from '../../mesh/mesh-state.ts';
import { NebulaCert } from '../../mesh/nebula-cert.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import type { DiskDeps } from '../deps.ts';
import { htpasswdLine, newPassword, storeUser } from './htpasswd.ts';
import { type PruneRequest, type SignedPrune, signPrune, verifyPrune } from './prune-request.ts';
import { RcloneProcess, rcloneServeArgv } from './rclone-process.ts';

const WINDOW_MS = 3_600_000;
const PRUNE_USER = 'prune';

interface PruneRecord {
  id: string;
  station: string;
  repository: string;
  /** who handed the request to the store */
  by: string;
  receivedAt: string;
  opensAt: string;
  state: 'waiting' | 'open' | 'done';
  closedAt?: string;
}

export interface PruneView {
  id: string;
  station: string;
  repository: string;
  state: PruneRecord['state'];
  opensAt: string;
  /** while open: where to run restic forget --prune, and the window's one-time credentials */
  repositoryUrl?: string;
  user?: string;
  password?: string;
  closesAt?: string;
}

export class PruneWindows {
  private readonly deps: DiskDeps;
  private readonly storeDir: string;
  private readonly file: string;
  private readonly htpasswd: string;
  private readonly rclone: RcloneProcess;
  private records: PruneRecord[] | undefined;
  private open: { id: string; password: string; url: string; closesAt: number; timer: NodeJS.Timeout } | undefined;

  constructor(deps: DiskDeps, storeDir: string) {
    this.deps = deps;
    this.storeDir = storeDir;
    const base = join(deps.config.stateDir, 'disk');
    this.file = join(base, 'prune-requests.json');
    this.htpasswd = join(base, 'prune.htpasswd');
    this.rclone = new RcloneProcess({ pidFile: join(base, 'rclone-prune.pid'), log: deps.log.child({ engine: 'rclone-prune' }), setpriv: true });
  }

  /** whether rclone can be tied to the agent's life with setpriv (PeerStore.start looks) */
  setpriv(present: boolean): void {
    this.rclone.options.setpriv = present;
  }

  static killStale(stateDir: string, storeDir: string): void {
    RcloneProcess.killStale(join(stateDir, 'disk', 'rclone-prune.pid'), storeDir);
  }

  private async load(): Promise<PruneRecord[]> {
    if (!this.records) {
      this.records = JSON.parse(await readFile(this.file, 'utf8').catch(() => '[]')) as PruneRecord[];
      // a window open when the agent stopped died with it (its rclone is the agent's child)
      for (const r of this.records) if (r.state === 'open') r.state = 'done';
    }
    return this.records;
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(this.records ?? [], null, 2)}\n`, 0o600);
  }

  /** The authority's side: a request signed with the owner's CA key (which only the authority holds). */
  async sign(fields: { store: string; station: string; repository: string; notBefore?: string }): Promise<SignedPrune> {
    const info = this.deps.mesh.info();
    if (info.role !== 'authority' || !info.owner)
      throw new ConflictError('MESH_NOT_AUTHORITY', `only the owner's authority (${info.authority ?? 'none'}) signs prune requests`);
    const caKey = await readFile(join(this.deps.config.stateDir, 'mesh', 'ca.key'), 'utf8');
    const notBefore = fields.notBefore ? new Date(fields.notBefore) : undefined;
    if (notBefore && Number.isNaN(notBefore.getTime())) throw new ValidationError('DISK_PRUNE_INVALID', 'notBefore is not a time');
    return signPrune(caKey, { ...fields, owner: info.owner, notBefore }, new Date());
  }

  /** The store's side: a signed request handed over by one of the owner's stations. */
  async accept(signed: SignedPrune, caller: MemberRecord): Promise<PruneView> {
    const info = this.deps.mesh.info();
    const [ca] = (await new NebulaCert(this.deps.run).inspect(info.caPem ?? '')).filter((c) => c.isCa);
    if (!ca || !info.owner) throw new UnavailableError('DISK_STORE_OFF', 'this station has no mesh CA to check the request with');
    const now = new Date();
    const r: PruneRequest = verifyPrune(signed, { caPublicKeyHex: ca.publicKey, owner: info.owner, store: info.name, now });
    if (caller.owner !== r.owner) throw new ForbiddenError('DISK_PRUNE_OWNER', "only the owner's stations hand over its prune requests");
    const records = await this.load();
    if (records.some((x) => x.id === r.nonce)) throw new ConflictError('DISK_PRUNE_REPLAYED', 'this prune request was already received');
    const repo = join(this.storeDir, storeUser(r.station, r.owner), r.repository);
    if (!(await stat(join(repo, 'config')).catch(() => null)))
      throw new NotFoundError('DISK_STORE_NOTHING_HELD', `this store holds no repository ${r.repository} of ${r.station}`);
    const opensAt = new Date(Math.max(Date.parse(r.notBefore), now.getTime() + this.deps.config.diskPruneDelaySeconds * 1000)).toISOString();
    const record: PruneRecord = {
      id: r.nonce,
      station: r.station,
      repository: r.repository,
      by: caller.name,
      receivedAt: now.toISOString(),
      opensAt,
      state: 'waiting',
    };
    records.push(record);
    await this.save();
    this.deps.log.warn({ station: r.station, repository: r.repository, by: caller.name, opensAt }, "prune request signed by the owner's authority received");
    this.deps.events.publish('disk.store.prune.requested', { station: r.station, repository: r.repository, by: caller.name, opensAt });
    return this.view(record);
  }

  private view(r: PruneRecord): PruneView {
    const base = { id: r.id, station: r.station, repository: r.repository, state: r.state, opensAt: r.opensAt };
    if (r.state !== 'open' || this.open?.id !== r.id) return base;
    return { ...base, repositoryUrl: this.open.url, user: PRUNE_USER, password: this.open.password, closesAt: new Date(this.open.closesAt).toISOString() };
  }

  private async find(id: string, caller: MemberRecord): Promise<PruneRecord> {
    const r = (await this.load()).find((x) => x.id === id);
    if (!r || caller.owner !== this.deps.mesh.info().owner) throw new NotFoundError('DISK_PRUNE_NOT_FOUND', `no prune request ${id} here`);
    return r;
  }

  /** The window: still waiting, or (once the delay is over) opened now for the asking station. */
  async window(id: string, caller: MemberRecord, address: string): Promise<PruneView> {
    const r = await this.find(id, caller);
    if (r.state !== 'waiting' || Date.now() < Date.parse(r.opensAt)) return this.view(r);
    if (this.open) throw new ConflictError('DISK_PRUNE_BUSY', 'another prune window is open on this store; try again when it closes');
    const password = newPassword();
    const port = this.deps.config.diskStorePort + 1;
    await writeFileAtomic(this.htpasswd, `${htpasswdLine(PRUNE_USER, password)}\n`, 0o600);
    const dir = join(this.storeDir, storeUser(r.station, this.deps.mesh.info().owner ?? ''), r.repository);
    await this.rclone.run(rcloneServeArgv({ addr: `${address}:${port}`, htpasswd: this.htpasswd, dir, appendOnly: false, privateRepos: false }));
    for (let i = 0; i < 200 && !this.rclone.serving; i++) await new Promise((res) => setTimeout(res, 50));
    if (!this.rclone.serving) {
      await this.rclone.stop();
      throw new UnavailableError('DISK_PRUNE_WINDOW_FAILED', `the prune window did not open: ${this.rclone.lastExit ?? 'rclone did not start'}`);
    }
    const timer = setTimeout(() => void this.close(r.id), WINDOW_MS);
    timer.unref();
    this.open = { id: r.id, password, url: `rest:http://${address}:${port}/`, closesAt: Date.now() + WINDOW_MS, timer };
    r.state = 'open';
    await this.save();
    this.deps.log.warn({ station: r.station, repository: r.repository, by: caller.name }, 'prune window open: one repository writable without append-only');
    this.deps.events.publish('disk.store.prune.opened', { station: r.station, repository: r.repository, by: caller.name });
    return this.view(r);
  }

  /** The pruning station is done (or the window timed out): the repository is append-only again. */
  async close(id: string, caller?: MemberRecord): Promise<PruneView> {
    const r = caller ? await this.find(id, caller) : (await this.load()).find((x) => x.id === id);
    if (!r) throw new NotFoundError('DISK_PRUNE_NOT_FOUND', `no prune request ${id} here`);
    if (this.open?.id === id) {
      clearTimeout(this.open.timer);
      this.open = undefined;
      await this.rclone.stop();
      await writeFileAtomic(this.htpasswd, '', 0o600);
    }
    if (r.state !== 'done') {
      r.state = 'done';
      r.closedAt = new Date().toISOString();
      await this.save();
      this.deps.events.publish('disk.store.pruned', { station: r.station, repository: r.repository });
    }
    return this.view(r);
  }

  async stop(): Promise<void> {
    if (this.open) await this.close(this.open.id);
    await this.rclone.stop();
  }
}
