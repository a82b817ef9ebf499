// The peer store: this station's side for its owner's other stations. While the station is in a
// mesh (Nebula up, address known) and offers space (diskOfferGb > 0) it runs
// `rclone serve restic --append-only --private-repos` on its mesh address, holding the ciphertext of
// their restic repositories under <stateDir>/disk/store/<station>.<owner>/. Stations get basic-auth
// credentials through grant() (api/routes/disk-store.ts), only as identified members over the mesh.
// It never holds the owner's key: peers store what they cannot read.
import { mkdir, readFile, readdir, rm, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CapacityError, NotFoundError, UnavailableError, ValidationError } from '../../errors.ts';
import { hasProgram } from '../../exec.ts';
import { SerialQueue } from '../../lib/serial-queue.ts';
import type { MemberRecord } from '../../mesh/mesh-state.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import type { SubsystemHealth } from '../../subsystem.ts';
import type { DiskDeps, DiskPart } from '../deps.ts';
import { htpasswdLine, NAME, newPassword, setUser, storeUser, usersOf } from './htpasswd.ts';
import { PruneWindows } from './prune-window.ts';
import { RcloneProcess, rcloneServeArgv } from './rclone-process.ts';
import { bytesUnder, type Capacity, freeBytes, fullReason, reserveFor, roomLeft } from './usage.ts';

/** how often the store looks at the mesh (besides its events) and measures what it holds */
const CHECK_EVERY_MS = 30_000;
const GIB = 2 ** 30;

export interface Grant {
  repositoryBase: string;
  user: string;
  password: string;
  offerBytes: number;
  /** what the calling station holds here */
  usedBytes: number;
  /** what any station may still store here (the rest of the offer, within the disk's free space) */
  freeBytes: number;
}

export interface Holding {
  station: string;
  repository: string;
  bytes: number;
  lastWrite: string | null;
}

export interface StoreStatus {
  running: boolean;
  reason: string | null;
  address: string | null;
  offerBytes: number;
  usedBytes: number;
  freeBytes: number;
  stations: { station: string; bytes: number }[];
}

export class PeerStore implements DiskPart {
  readonly name = 'store';
  private readonly deps: DiskDeps;
  readonly dir: string;
  readonly htpasswdFile: string;
  private readonly rclone: RcloneProcess;
  /** pruning with the owner's authority: one repository at a time, writable for a while */
  readonly prunes: PruneWindows;
  private readonly queue = new SerialQueue();
  private available = true;
  private offReason: string | null = 'the disk room has not started (or is turned off: STATION_DISABLE)';
  private address: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** bytes per user at the last measurement: who grew since, when the store runs over its offer */
  private lastUsage = new Map<string, number>();
  /** what the last check measured (GET /disk reads it without measuring) */
  private measured: Capacity | null = null;

  constructor(deps: DiskDeps) {
    this.deps = deps;
    const base = join(deps.config.stateDir, 'disk');
    this.dir = join(base, 'store');
    this.htpasswdFile = join(base, 'store.htpasswd');
    this.rclone = new RcloneProcess({
      pidFile: join(base, 'rclone-store.pid'),
      log: deps.log.child({ engine: 'rclone' }),
      setpriv: true,
      onServing: () => {
        this.deps.events.publish('disk.store.started', { address: this.address ?? '', port: this.deps.config.diskStorePort });
      },
      onExit: (why) => this.deps.log.warn({ exit: why }, 'the copy store stopped'),
    });
    this.prunes = new PruneWindows(deps, this.dir);
  }

  private get offerBytes(): number {
    return this.deps.config.diskOfferGb * GIB;
  }

  async start(): Promise<void> {
    this.available = await hasProgram('rclone');
    const setpriv = await hasProgram('setpriv');
    this.rclone.options.setpriv = setpriv;
    this.prunes.setpriv(setpriv);
    RcloneProcess.killStale(join(this.deps.config.stateDir, 'disk', 'rclone-store.pid'), this.dir);
    PruneWindows.killStale(this.deps.config.stateDir, this.dir);
    // The mesh coming up, moving or going away: look again (and on a timer, for anything missed).
    const failed = (error: unknown) => this.deps.log.error({ err: error }, 'copy store upkeep failed; tried again at the next mesh event or check');
    this.unsubscribe = this.deps.events.subscribeArea('mesh', () => this.reconcile().catch(failed));
    this.timer = setInterval(() => {
      this.reconcile()
        .then(() => this.enforceOffer())
        .catch(failed);
    }, CHECK_EVERY_MS);
    this.timer.unref();
    await this.reconcile();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.queue.run(() => this.halt('the agent stopped'));
  }

  health(): SubsystemHealth {
    if (this.offReason) return { state: 'off', reason: this.offReason };
    if (this.rclone.serving) return { state: 'ok' };
    if (this.rclone.restarts > 0) return { state: 'degraded', reason: `the copy store keeps stopping (${this.rclone.lastExit ?? 'unknown'})` };
    return { state: 'starting', reason: 'the copy store is starting' };
  }

  /** Runs, moves or stops rclone to match the mesh and the offer. */
  reconcile(): Promise<void> {
    return this.queue.run(async () => {
      const info = this.deps.mesh.info();
      // Nebula restarting (new members, a healed tunnel) is 'down' for a moment: the store keeps its
      // socket on the same address, which serves again as soon as the tunnel device is back.
      if (info.state === 'down' && this.rclone.current.length && info.address === this.address && this.deps.config.diskOfferGb > 0) return;
      const why = !this.available
        ? 'rclone is not installed (Debian package "rclone")'
        : this.deps.config.diskOfferGb === 0
          ? 'this station offers no space (diskOfferGb is 0)'
          : info.state !== 'up' || !info.address
            ? info.state === 'none'
              ? 'this station is in no mesh'
              : `the mesh is ${info.state}`
            : null;
      if (why) return this.halt(why);
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await readFile(this.htpasswdFile).catch(() => writeFileAtomic(this.htpasswdFile, '', 0o600));
      this.address = info.address;
      this.offReason = null;
      await this.dropFormerMembers();
      await this.rclone.run(
        rcloneServeArgv({ addr: `${info.address}:${this.deps.config.diskStorePort}`, htpasswd: this.htpasswdFile, dir: this.dir, appendOnly: true }),
      );
    });
  }

  /**
   * A station the owner revoked (or that left) loses its line at once: its password opened the store
   * until now, and Nebula dropping it is not the store's only guard. What it stored stays: it is the
   * owner's, readable by the owner's stations through readFrom. Runs on every mesh event.
   */
  private async dropFormerMembers(): Promise<void> {
    const live = new Set(
      this.deps.mesh
        .peers()
        .filter((p) => !p.revoked)
        .map((p) => storeUser(p.name, p.owner)),
    );
    let text = await readFile(this.htpasswdFile, 'utf8').catch(() => '');
    const gone = usersOf(text).filter((u) => !live.has(u));
    if (!gone.length) return;
    for (const u of gone) text = setUser(text, u, null);
    await writeFileAtomic(this.htpasswdFile, text, 0o600);
    this.deps.log.warn({ users: gone }, 'copy store: stations no longer in the mesh lost their access');
  }

  private async halt(reason: string): Promise<void> {
    const wasRunning = this.rclone.current.length > 0;
    this.offReason = reason;
    await this.prunes.stop();
    await this.rclone.stop();
    if (wasRunning) this.deps.events.publish('disk.store.stopped', { reason });
  }

  /** This store's mesh address while it serves (DISK_STORE_OFF otherwise). */
  assertServing(): string {
    if (this.offReason || !this.address)
      throw new UnavailableError('DISK_STORE_OFF', `this station's copy store is off: ${this.offReason ?? 'no mesh address'}`);
    return this.address;
  }

  private userDir = (user: string): string => join(this.dir, user);

  async capacity(): Promise<Capacity> {
    const { free, size } = await freeBytes(this.dir);
    this.measured = { offerBytes: this.offerBytes, usedBytes: await bytesUnder(this.deps.run, this.dir), diskFreeBytes: free, reserveBytes: reserveFor(size) };
    return this.measured;
  }

  /** The store at a glance for GET /disk (from the last measurement; null while it is off). */
  report(): { running: boolean; offerBytes: number; usedBytes: number; freeBytes: number; reason: string | null } | null {
    if (this.offReason) return { running: false, offerBytes: this.offerBytes, usedBytes: 0, freeBytes: 0, reason: this.offReason };
    const c = this.measured;
    return {
      running: this.rclone.serving,
      offerBytes: this.offerBytes,
      usedBytes: c?.usedBytes ?? 0,
      freeBytes: c ? roomLeft(c) : 0,
      reason: this.rclone.serving ? null : (this.rclone.lastExit ?? 'starting'),
    };
  }

  /**
   * Credentials for the calling member (identified by the route): a new random password replaces
   * its previous one. With readFrom, read access to a gone station's repositories of the same owner:
   * a hard-linked copy (restic never rewrites a file, so sharing inodes is safe and costs no space).
   */
  grant(caller: MemberRecord, readFrom?: string): Promise<Grant> {
    return this.queue.run(async () => {
      const address = this.assertServing();
      // The names become a path and an htpasswd line: DNS labels only (the authority enrols no other, but a bad record must not reach either).
      if (!NAME.test(caller.name) || !NAME.test(caller.owner))
        throw new ValidationError('DISK_STORE_NAME_INVALID', `the station name ${JSON.stringify(caller.name)} cannot be a store user`);
      const user = storeUser(caller.name, caller.owner);
      let sub = '';
      if (readFrom !== undefined) {
        if (!NAME.test(readFrom)) throw new ValidationError('DISK_STORE_READ_FROM_INVALID', 'readFrom must be a station name (a DNS label)');
        if (readFrom === caller.name) throw new ValidationError('DISK_STORE_READ_FROM_SELF', 'readFrom names the calling station itself');
        // Only a station of the caller's own owner: the directory name carries the owner.
        const source = this.userDir(storeUser(readFrom, caller.owner));
        if (!(await stat(source).catch(() => null))?.isDirectory())
          throw new NotFoundError('DISK_STORE_NOTHING_HELD', `this store holds nothing of ${caller.owner}'s station ${readFrom}`);
        sub = `from-${readFrom}/`;
        await this.linkCopy(source, join(this.userDir(user), `from-${readFrom}`));
      } else {
        const c = await this.capacity();
        const reason = fullReason(c);
        if (reason) {
          this.deps.events.publish('disk.store.full', { usedBytes: c.usedBytes, offerBytes: c.offerBytes, reason });
          throw new CapacityError('DISK_STORE_FULL', `this station's copy store is full: ${reason}; store the copy on another station`);
        }
      }
      await mkdir(this.userDir(user), { recursive: true, mode: 0o700 });
      const password = newPassword();
      const text = await readFile(this.htpasswdFile, 'utf8').catch(() => '');
      await writeFileAtomic(this.htpasswdFile, setUser(text, user, htpasswdLine(user, password)), 0o600);
      const c = await this.capacity();
      this.deps.events.publish('disk.store.granted', { station: caller.name, owner: caller.owner, readFrom: readFrom ?? null });
      return {
        repositoryBase: `rest:http://${address}:${this.deps.config.diskStorePort}/${user}/${sub}`,
        user,
        password,
        offerBytes: c.offerBytes,
        usedBytes: await bytesUnder(this.deps.run, this.userDir(user)),
        freeBytes: roomLeft(c),
      };
    });
  }

  /** Replaces dest with a hard-linked copy of source (made beside it, then renamed into place). */
  private async linkCopy(source: string, dest: string): Promise<void> {
    const temp = `${dest}.linking`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(join(dest, '..'), { recursive: true, mode: 0o700 });
    await this.deps.run(['cp', '-al', '--', source, temp], { timeoutMs: 300_000 });
    await rm(dest, { recursive: true, force: true });
    await rename(temp, dest);
  }

  /** The repositories held for `owner`'s stations: one per node directory under each station's. */
  async holdings(owner: string): Promise<Holding[]> {
    const out: Holding[] = [];
    const suffix = `.${owner}`;
    for (const user of await readdir(this.dir).catch(() => [] as string[])) {
      if (!user.endsWith(suffix)) continue;
      const station = user.slice(0, -suffix.length);
      for (const repository of await readdir(this.userDir(user)).catch(() => [] as string[])) {
        if (repository.startsWith('from-')) continue;
        const dir = join(this.userDir(user), repository);
        const config = await stat(join(dir, 'config')).catch(() => null);
        if (!config) continue;
        out.push({ station, repository, bytes: await bytesUnder(this.deps.run, dir), lastWrite: await lastWrite(dir) });
      }
    }
    return out.sort((a, b) => a.station.localeCompare(b.station) || a.repository.localeCompare(b.repository));
  }

  async status(owner: string): Promise<StoreStatus> {
    const running = this.rclone.serving;
    const stations: StoreStatus['stations'] = [];
    const suffix = `.${owner}`;
    for (const user of await readdir(this.dir).catch(() => [] as string[])) {
      if (user.endsWith(suffix)) stations.push({ station: user.slice(0, -suffix.length), bytes: await bytesUnder(this.deps.run, this.userDir(user)) });
    }
    const c = await this.capacity().catch(() => null);
    return {
      running,
      reason: this.offReason ?? (running ? null : (this.rclone.lastExit ?? 'starting')),
      address: this.offReason ? null : this.address,
      offerBytes: this.offerBytes,
      usedBytes: c?.usedBytes ?? 0,
      freeBytes: c ? roomLeft(c) : 0,
      stations,
    };
  }

  /**
   * rclone has no quota (measured). Every CHECK_EVERY_MS: when the store holds more than its offer,
   * the users whose holdings grew since the last look lose their line in the htpasswd file (their
   * password stops working at once); they get a new one only when the store has room again. So a
   * station overruns the offer by at most what it writes in one check interval.
   */
  private async enforceOffer(): Promise<void> {
    if (this.offReason) return;
    await this.queue.run(async () => {
      const usage = new Map<string, number>();
      for (const user of await readdir(this.dir).catch(() => [] as string[])) usage.set(user, await bytesUnder(this.deps.run, this.userDir(user)));
      const c = await this.capacity();
      const reason = fullReason(c);
      if (reason) {
        const grew = [...usage].filter(([u, b]) => b > (this.lastUsage.get(u) ?? 0)).map(([u]) => u);
        let text = await readFile(this.htpasswdFile, 'utf8').catch(() => '');
        const cut = usersOf(text).filter((u) => grew.includes(u));
        for (const u of cut) text = setUser(text, u, null);
        if (cut.length) await writeFileAtomic(this.htpasswdFile, text, 0o600);
        this.deps.log.warn({ usedBytes: c.usedBytes, offerBytes: c.offerBytes, suspended: cut }, 'copy store over its offer: writers suspended');
        this.deps.events.publish('disk.store.full', { usedBytes: c.usedBytes, offerBytes: c.offerBytes, reason });
      }
      this.lastUsage = usage;
    });
  }

  /** For tests and the route: run the offer check now. */
  checkNow(): Promise<void> {
    return this.enforceOffer();
  }
}

/** The newest modification time of a repository's snapshots (what a backup writes last), ISO. */
async function lastWrite(repo: string): Promise<string | null> {
  let newest = 0;
  for (const f of await readdir(join(repo, 'snapshots')).catch(() => [] as string[])) {
    const s = await stat(join(repo, 'snapshots', f)).catch(() => null);
    if (s && s.mtimeMs > newest) newest = s.mtimeMs;
  }
  return newest ? new Date(newest).toISOString() : null;
}
