// Brings the running Nebula in line with the mesh state: renders the config (pure renderer), writes
// it and the CA bundle, then reloads in place or, where Nebula 1.6 cannot reload, restarts.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Config } from '../config/schema.ts';
import { lighthousesOf, trustedRanges, tunDevFor, type MeshPaths, type MeshState } from './mesh-state.ts';
import { renderNebulaConfig, type NebulaConfigInput } from './nebula-config.ts';
import type { NebulaProcess } from './nebula-process.ts';

export interface NebulaApplyDeps {
  config: Config;
  paths: MeshPaths;
  nebula: NebulaProcess;
  /** the nodes' firewall entries (the Network Node); undefined when unavailable */
  nodeFirewall: () => NebulaConfigInput['nodes'];
  /** Nebula was restarted later, to take new routes (see ROUTES_SETTLE_MS) */
  onDeferredRestart?: () => void;
  /** default ROUTES_SETTLE_MS */
  routesSettleMs?: number;
}

/**
 * New node-subnet routes wait this long for more before the restart that takes them: stations
 * joining together (or a member learning of several at one sync) cost one restart, not one each,
 * and a join's reply does not wait for the inviter's tunnels to come back.
 */
export const ROUTES_SETTLE_MS = 2000;

/** Every other member's node subnet, routed through the tunnel to that member. */
export const routesOf = (s: MeshState): { route: string; via: string }[] =>
  s.members.filter((m) => m.address !== s.address && !m.revokedAt && m.nodeSubnet).map((m) => ({ route: m.nodeSubnet!, via: m.address }));

export class NebulaApplier {
  private readonly deps: NebulaApplyDeps;
  private renderedConfig = '';
  private runningCert = '';
  private runningBlocklist = new Set<string>();
  private runningRoutes = '';
  private pendingRoutes = '';
  private routesTimer: NodeJS.Timeout | undefined;

  constructor(deps: NebulaApplyDeps) {
    this.deps = deps;
  }

  /** Forget what runs (Nebula was stopped for good: the station left its mesh). */
  reset(): void {
    clearTimeout(this.routesTimer);
    this.renderedConfig = '';
    this.runningCert = '';
    this.runningRoutes = '';
    this.runningBlocklist = new Set();
  }

  /** Returns what happened now: 'restarted', 'reloaded' or 'unchanged' (new routes restart later). */
  async apply(s: MeshState): Promise<'restarted' | 'reloaded' | 'unchanged'> {
    const { config, paths, nebula } = this.deps;
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    const bundle = `${[s.caPem, ...s.trusted.map((t) => t.pem)].map((p) => p.trimEnd()).join('\n')}\n`;
    const self = s.members.find((m) => m.address === s.address);
    const routes = routesOf(s);
    const text = renderNebulaConfig({
      caFile: paths.caBundle,
      certFile: paths.hostCrt,
      keyFile: paths.hostKey,
      listenPort: config.meshListenPort,
      tunDev: tunDevFor(config.stateDir, config.meshTunDev),
      amLighthouse: self?.lighthouse ?? false,
      lighthouses: lighthousesOf(s),
      selfAddress: s.address,
      blocklist: s.blocklist,
      ownCaFingerprint: s.caFingerprint,
      apiPort: config.httpPort,
      trusted: s.trusted.map((t) => ({ fingerprint: t.fingerprint, allow: t.allow, ranges: trustedRanges(t) })),
      nodes: this.deps.nodeFirewall(),
      unadvertised: [...new Set([config.nodeSubnet, ...(s.nodeSubnet ? [s.nodeSubnet] : [])])],
      unsafeRoutes: routes,
      ownerCas: Object.fromEntries([[s.owner, s.caFingerprint], ...s.trusted.map((t) => [t.owner, t.fingerprint])]),
    });
    const currentBundle = await readFile(paths.caBundle, 'utf8').catch(() => '');
    if (currentBundle !== bundle) await writeFile(paths.caBundle, bundle, { mode: 0o600 });
    const changed = text !== this.renderedConfig || currentBundle !== bundle;
    if (changed) await writeFile(paths.config, text, { mode: 0o600 });
    this.renderedConfig = text;
    // Nebula 1.6 applies a new blocklist to new handshakes only, keeping tunnels already up; a
    // revocation must cut those too, so a grown blocklist restarts Nebula (tunnels to everyone else
    // come back within milliseconds). It cannot reload tun.unsafe_routes either (1.10 can): new
    // node subnets restart it too, once they settle; members join rarely. Everything else is a
    // SIGHUP reload that keeps tunnels.
    const newlyBlocked = s.blocklist.some((f) => !this.runningBlocklist.has(f));
    const routesKey = JSON.stringify(routes.map((r) => [r.route, r.via]).sort());
    if (!nebula.running || this.runningCert !== s.certFingerprint || newlyBlocked) {
      clearTimeout(this.routesTimer);
      this.runningCert = s.certFingerprint;
      this.runningRoutes = routesKey;
      this.runningBlocklist = new Set(s.blocklist);
      await nebula.restart();
      return 'restarted';
    }
    if (routesKey !== this.runningRoutes) this.restartForRoutes(routesKey);
    if (!changed) return 'unchanged';
    this.runningBlocklist = new Set(s.blocklist);
    nebula.reload();
    return 'reloaded';
  }

  private restartForRoutes(routesKey: string): void {
    this.pendingRoutes = routesKey;
    clearTimeout(this.routesTimer);
    this.routesTimer = setTimeout(() => {
      if (!this.deps.nebula.running || this.pendingRoutes === this.runningRoutes) return;
      this.runningRoutes = this.pendingRoutes;
      void this.deps.nebula.restart().then(
        () => this.deps.onDeferredRestart?.(),
        () => undefined,
      );
    }, this.deps.routesSettleMs ?? ROUTES_SETTLE_MS);
    this.routesTimer.unref();
  }
}
