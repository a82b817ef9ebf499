// Infinite Disk: a node's volumes outlive its station. Three parts, each its own module under
// agent/disk/, started in this order:
//   snapshots  crash-consistent read-only snapshots of all of a node's volumes at one instant (the
//              node frozen through its cgroup for that instant), on a schedule, kept btrbk-style;
//   store      this station's side for its owner's other stations: an append-only restic store
//              (rclone serve restic) on its mesh address, holding their ciphertext;
//   copies     this station's nodes copied (restic, the owner's key) to peers' stores, replaced when
//              a peer is lost or a copy is damaged, and restored on any of the owner's stations.
// It reads the nodes and the mesh through the narrow views in deps.ts; the storage driver is the nodes'..
import type { HealthState, Subsystem, SubsystemHealth } from '../subsystem.ts';
import type { DiskDeps, DiskPart } from './deps.ts';
import { CopyKeeper } from './copies/copy-keeper.ts';
import { ExportKeeper } from './exports/export-keeper.ts';
import { PeerStore } from './store/peer-store.ts';
import { SnapshotKeeper } from './snapshots/keeper.ts';
import { diskReport, type DiskReport, type DiskSources } from './overview.ts';
import { diskSamples } from './metrics.ts';
import type { MetricsRegistry } from '../metrics.ts';

export class DiskSubsystem implements Subsystem {
  readonly name = 'disk';
  /** in start order */
  readonly parts: DiskPart[] = [];
  /** what each part contributes to GET /disk (a part sets its piece when it is built) */
  readonly sources: Omit<DiskSources, 'driver' | 'nodes'> = {};

  readonly deps: DiskDeps;
  /** the nodes' snapshot sets: schedule, retention, on demand, restore (api/routes/disk-snapshots.ts) */
  readonly snapshots: SnapshotKeeper;
  /** this station's store for its owner's other stations' copies (api/routes/disk-store.ts) */
  readonly store: PeerStore;
  /** this station's nodes copied to peers' stores, replaced when lost, restored anywhere (api/routes/disk-copies.ts) */
  readonly copies: CopyKeeper;
  /** volumes served over WebDAV and SMB on the LAN and/or the mesh (api/routes/disk-exports.ts) */
  readonly exports: ExportKeeper;

  constructor(deps: DiskDeps) {
    this.deps = deps;
    this.snapshots = new SnapshotKeeper(deps);
    this.parts.push(this.snapshots);
    this.sources.snapshots = (node) => this.snapshots.report(node);
    this.store = new PeerStore(deps);
    this.parts.push(this.store);
    this.sources.store = () => this.store.report();
    this.copies = new CopyKeeper(deps, this.snapshots);
    this.parts.push(this.copies);
    this.sources.copies = (node) => this.copies.report(node);
    this.exports = new ExportKeeper(deps);
    this.parts.push(this.exports);
  }

  async start(): Promise<void> {
    for (const part of this.parts) await part.start();
  }

  async stop(): Promise<void> {
    for (const part of [...this.parts].reverse()) {
      try {
        await part.stop();
      } catch (error) {
        this.deps.log.error({ err: error, part: part.name }, 'stop failed');
      }
    }
  }

  /** station_disk_* (agent/disk/metrics.ts) */
  registerMetrics(metrics: MetricsRegistry): void {
    metrics.register(() =>
      diskSamples({
        nodes: () => this.deps.nodes.list().map((n) => n.name),
        copies: (node) => this.copies.report(node),
        store: () => this.store.report(),
      }),
    );
  }

  /** GET /disk: every node's volumes with what the parts know of them. */
  report(): Promise<DiskReport> {
    const nodes = this.deps.nodes.list().map((n) => ({ name: n.name, volumes: n.spec.volumes.map((v) => v.name) }));
    return diskReport({ ...this.sources, driver: this.deps.nodes.volumeDriver(), nodes });
  }

  /** Degraded when a part is; off only when every part is off (a station outside a mesh still snapshots). */
  health(): SubsystemHealth {
    const states = this.parts.map((p) => ({ part: p.name, ...p.health() }));
    const notOk = states.filter((h) => h.state !== 'ok');
    const reason = notOk.map((h) => `${h.part}: ${h.reason ?? h.state}`).join('; ');
    const pick = (s: HealthState): boolean => states.some((h) => h.state === s);
    let state: HealthState = 'ok';
    if (pick('degraded')) state = 'degraded';
    else if (pick('starting')) state = 'starting';
    else if (states.length && states.every((h) => h.state === 'off')) state = 'off';
    return reason ? { state, reason } : { state };
  }
}
