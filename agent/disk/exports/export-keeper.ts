// Exports: a node's volume served over WebDAV (`rclone serve webdav`, one per export and address)
// or SMB (the agent's one smbd, a share per export) on the station's LAN address(es), its mesh
// address, or both; each export with its own user and a random password shown once. Off until an
// admin makes one. The served directory is the volume's mount source (what the node mounts).
// Kept in <stateDir>/disk/exports.json (0600); passwords only as hashes in the engines' own stores.
// Servers follow the addresses (a 30 s look, and every mesh event) and go with their node or volume.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError, UnavailableError } from '../../errors.ts';
import { hasProgram } from '../../exec.ts';
import { SerialQueue } from '../../lib/serial-queue.ts';
import type { SubsystemHealth } from '../../subsystem.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import type { DiskDeps, DiskPart } from '../deps.ts';
import { htpasswdLine, newPassword } from '../store/htpasswd.ts';
import { clientNetworks, listenAddresses, parseLanAddresses, type StationAddresses } from './addresses.ts';
import {
  checkRequest,
  type ExportRecord,
  type ExportRequest,
  EXPORT_ID,
  freeSmbUid,
  freeWebdavPort,
  loadExports,
  newExportId,
  saveExports,
  SMB_PORT,
} from './export-record.ts';
import { SambaServer } from './samba-server.ts';
import { renderPasswd, renderSmbConf } from './smb-conf.ts';
import { WebdavServers, type WebdavOptions } from './webdav.ts';

const LOOK_EVERY_MS = 30_000;

export interface ExportView extends ExportRecord {
  /** every server of this export listens */
  serving: boolean;
  /** where clients reach it: http://ADDR:PORT/ or \\ADDR\SHARE */
  urls: string[];
  /** why it does not serve (null while it does) */
  reason: string | null;
}

/** The share name of an SMB export. */
export const shareName = (r: { node: string; volume: string }): string => `${r.node}-${r.volume}`;

export class ExportKeeper implements DiskPart {
  readonly name = 'exports';
  private readonly deps: DiskDeps;
  private readonly file: string;
  private readonly dir: string;
  private readonly webdav: WebdavServers;
  readonly samba: SambaServer;
  private readonly queue = new SerialQueue();
  private records: ExportRecord[] = [];
  private have = { rclone: false, smb: false };
  private addresses: StationAddresses = { lan: [], lanSubnets: [], mesh: null };
  private offReason: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: DiskDeps) {
    this.deps = deps;
    this.file = join(deps.config.stateDir, 'disk', 'exports.json');
    this.dir = join(deps.config.stateDir, 'disk', 'exports');
    this.webdav = new WebdavServers(this.dir, deps.log.child({ engine: 'rclone-webdav' }));
    this.samba = new SambaServer(deps.config.stateDir, deps.run, deps.log.child({ engine: 'smbd' }));
  }

  async start(): Promise<void> {
    const [rclone, smbd, pdbedit, unshare, setpriv] = await Promise.all(['rclone', 'smbd', 'pdbedit', 'unshare', 'setpriv'].map((p) => hasProgram(p)));
    this.have = { rclone: rclone!, smb: smbd! && pdbedit! && unshare! };
    this.webdav.setpriv = setpriv!;
    this.samba.setpriv = setpriv!;
    WebdavServers.killStale(this.dir);
    this.samba.killStale();
    this.records = await loadExports(this.file);
    const failed = (error: unknown) => this.deps.log.error({ err: error }, 'export upkeep failed; tried again at the next look');
    this.unsubscribe = this.deps.events.subscribe((e) => {
      if (e.type.startsWith('mesh.')) this.reconcile().catch(failed);
      if (e.type === 'node.deleted' || e.type === 'node.updated') this.followNode(e.data.name).catch(failed);
    });
    this.timer = setInterval(() => this.reconcile().catch(failed), LOOK_EVERY_MS);
    this.timer.unref();
    await this.reconcile();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.queue.run(async () => {
      await this.webdav.stop();
      await this.samba.stop();
    });
  }

  health(): SubsystemHealth {
    // nothing exported (the default) is not a problem to report in the disk room's health
    if (!this.records.length) return { state: 'ok' };
    if (this.offReason) return { state: 'off', reason: this.offReason };
    const views = this.list();
    const down = views.filter((v) => !v.serving);
    if (!down.length) return { state: 'ok' };
    const reason = down.map((v) => `${v.id} (${v.protocol} ${v.node}/${v.volume}): ${v.reason}`).join('; ');
    return { state: down.some((v) => v.reason !== 'starting') ? 'degraded' : 'starting', reason };
  }

  /** Every export, with where it is reached and whether it serves (no password: there is none to show). */
  list(): ExportView[] {
    return this.records.map((r) => this.view(r));
  }

  private view(r: ExportRecord): ExportView {
    const { addresses, missing } = listenAddresses(r.on, this.addresses);
    const urls = addresses.map((a) => (r.protocol === 'webdav' ? `http://${a}:${r.port}/` : `\\\\${a}\\${shareName(r)}`));
    let serving = false;
    let reason: string | null = this.offReason ?? missing;
    if (!reason && r.protocol === 'webdav') {
      const s = this.webdav.state(r.id);
      serving = s.serving;
      reason = serving ? null : (s.failure ?? 'starting');
    } else if (!reason) {
      serving = this.samba.serving;
      reason = !this.have.smb ? 'samba is not installed (Debian package "samba")' : serving ? null : (this.samba.lastExit ?? 'starting');
    }
    return { ...r, serving: serving && !missing, urls, reason };
  }

  /** Makes an export; the answer carries its password, the only time it is ever shown. */
  create(request: ExportRequest): Promise<ExportView & { password: string }> {
    return this.queue.run(async () => {
      const { protocol, on, readOnly } = checkRequest(request);
      const node = this.deps.nodes.list().find((n) => n.name === request.node);
      if (!node) throw new NotFoundError('NODE_NOT_FOUND', `no node named ${JSON.stringify(request.node)}`);
      if (!node.spec.volumes.some((v) => v.name === request.volume))
        throw new NotFoundError('VOLUME_NOT_FOUND', `node ${node.name} has no volume named ${JSON.stringify(request.volume)}`);
      if (!this.deps.nodes.volumeDriver()) throw new UnavailableError('DISK_EXPORT_OFF', 'the nodes are off: no volume can be exported');
      if (protocol === 'webdav' && !this.have.rclone)
        throw new UnavailableError('DISK_EXPORT_UNAVAILABLE', 'rclone is not installed (Debian package "rclone")');
      if (protocol === 'smb' && !this.have.smb)
        throw new UnavailableError('DISK_EXPORT_UNAVAILABLE', 'samba is not installed (Debian package "samba"; smbd, pdbedit and unshare are needed)');
      if (this.records.some((r) => r.node === node.name && r.volume === request.volume && r.protocol === protocol))
        throw new ConflictError('DISK_EXPORT_EXISTS', `${node.name}/${request.volume} is exported over ${protocol} already (remove that export first)`);
      this.addresses = await this.lookAround();
      const { missing } = listenAddresses(on, this.addresses);
      if (missing) throw new ConflictError('DISK_EXPORT_NO_ADDRESS', `cannot export on ${on}: ${missing}`);
      const id = newExportId();
      const record: ExportRecord = {
        id,
        node: node.name,
        volume: request.volume,
        protocol,
        on,
        readOnly,
        user: `${protocol === 'smb' ? 'smb' : 'dav'}-${id}`,
        port: protocol === 'webdav' ? freeWebdavPort(this.records) : SMB_PORT,
        ...(protocol === 'smb' ? { uid: freeSmbUid(this.records) } : {}),
        createdAt: new Date().toISOString(),
      };
      const password = newPassword();
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      try {
        if (protocol === 'webdav') await writeFileAtomic(this.htpasswd(id), `${htpasswdLine(record.user, password)}\n`, 0o600);
        else {
          await this.samba.prepare(this.smbConf([...this.records, record]), await this.smbPasswd([...this.records, record]));
          await this.samba.setUser(record.user, password);
        }
        await saveExports(this.file, [...this.records, record]);
      } catch (error) {
        await rm(this.htpasswd(id), { force: true });
        if (protocol === 'smb') await this.samba.removeUser(record.user).catch(() => undefined);
        throw error;
      }
      this.records.push(record);
      this.deps.log.info({ id, node: record.node, volume: record.volume, protocol, on, readOnly }, 'volume exported');
      this.deps.events.publish('disk.export.created', { id, node: record.node, volume: record.volume, protocol, on, readOnly });
      await this.apply();
      return { ...this.view(record), password };
    });
  }

  /** Removes an export: its server stops (or its share goes), its password stops working. */
  remove(id: string, reason = 'removed by the admin'): Promise<ExportView> {
    return this.queue.run(async () => {
      const record = EXPORT_ID.test(id) ? this.records.find((r) => r.id === id) : undefined;
      if (!record) throw new NotFoundError('DISK_EXPORT_NOT_FOUND', `no export ${JSON.stringify(id)}`);
      await this.drop([record], reason);
      return { ...this.view(record), serving: false, reason };
    });
  }

  private async drop(gone: ExportRecord[], reason: string): Promise<void> {
    const ids = new Set(gone.map((r) => r.id));
    const kept = this.records.filter((r) => !ids.has(r.id));
    await saveExports(this.file, kept);
    this.records = kept;
    for (const r of gone) {
      await rm(this.htpasswd(r.id), { force: true });
      if (r.protocol === 'smb') await this.samba.removeUser(r.user);
      this.deps.log.info({ id: r.id, node: r.node, volume: r.volume, reason }, 'export removed');
      this.deps.events.publish('disk.export.removed', { id: r.id, node: r.node, volume: r.volume, protocol: r.protocol, reason });
    }
    await this.apply();
  }

  /** A node deleted, or patched without a volume it exported: those exports go. */
  private followNode(name: string): Promise<void> {
    return this.queue.run(async () => {
      const node = this.deps.nodes.list().find((n) => n.name === name);
      const volumes = new Set(node?.spec.volumes.map((v) => v.name) ?? []);
      const gone = this.records.filter((r) => r.node === name && !volumes.has(r.volume));
      if (gone.length) await this.drop(gone, node ? 'its volume was removed from the node' : 'its node was deleted');
    });
  }

  /** Looks at the addresses again and makes the servers match. */
  reconcile(): Promise<void> {
    return this.queue.run(async () => {
      this.addresses = await this.lookAround();
      await this.apply();
    });
  }

  private async lookAround(): Promise<StationAddresses> {
    const info = this.deps.mesh.info();
    const routes = await this.deps.run(['ip', '-j', '-4', 'route', 'show'], { allowFailure: true });
    const addrs = await this.deps.run(['ip', '-j', '-4', 'addr', 'show'], { allowFailure: true });
    const lan = parseLanAddresses(routes.stdout, addrs.stdout, [this.deps.config.bridge, info.nebula.tunDev]);
    return { ...lan, mesh: info.state === 'up' ? info.address : null };
  }

  private htpasswd = (id: string): string => join(this.dir, `${id}.htpasswd`);

  private smbConf(records: ExportRecord[]): string {
    const smb = records.filter((r) => r.protocol === 'smb');
    const driver = this.deps.nodes.volumeDriver();
    const interfaces = [...new Set(smb.flatMap((r) => listenAddresses(r.on, this.addresses).addresses))].sort();
    return renderSmbConf({
      dir: this.samba.dir,
      stationName: this.deps.mesh.info().name,
      interfaces,
      bindAll: smb.some((r) => r.on !== 'lan') && this.addresses.mesh !== null,
      shares: smb.map((r) => ({
        name: shareName(r),
        path: driver ? driver.mountSource({ node: r.node, volume: r.volume }) : '/nonexistent',
        user: r.user,
        readOnly: r.readOnly,
        hostsAllow: clientNetworks(r.on, this.addresses),
      })),
    });
  }

  private async smbPasswd(records: ExportRecord[]): Promise<string> {
    const users = records.filter((r) => r.protocol === 'smb' && r.uid !== undefined).map((r) => ({ user: r.user, uid: r.uid! }));
    return renderPasswd(await readFile('/etc/passwd', 'utf8'), users);
  }

  /** Runs exactly the servers the exports and the addresses call for. */
  private async apply(): Promise<void> {
    const driver = this.deps.nodes.volumeDriver();
    this.offReason = driver ? null : 'the nodes are off (no volume driver)';
    const wanted = new Map<string, WebdavOptions>();
    if (driver && this.have.rclone) {
      for (const r of this.records.filter((x) => x.protocol === 'webdav')) {
        const dir = driver.mountSource({ node: r.node, volume: r.volume });
        for (const a of listenAddresses(r.on, this.addresses).addresses)
          wanted.set(`${r.id}@${a}`, { addr: `${a}:${r.port}`, htpasswd: this.htpasswd(r.id), dir, readOnly: r.readOnly });
      }
    }
    await this.webdav.apply(wanted);
    const smb = this.records.filter((r) => r.protocol === 'smb');
    const conf = this.smbConf(this.records);
    const listening = smb.some((r) => listenAddresses(r.on, this.addresses).addresses.length > 0);
    if (driver && this.have.smb && listening) await this.samba.apply(conf, await this.smbPasswd(this.records));
    else await this.samba.stop();
  }
}
