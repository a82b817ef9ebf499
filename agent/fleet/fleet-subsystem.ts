// Fleet updates through balena. On only under a balena supervisor (BALENA_SUPERVISOR_ADDRESS and
// BALENA_SUPERVISOR_API_KEY set by the io.balena.features.supervisor-api label); off otherwise.
// - Update lock: withUpdateLock(fn) holds balena's lockfile while a node operation that must not
//   be cut runs (node create, volume snapshot); the supervisor defers updates until it is gone.
// - Hand-over (io.balena.update.strategy=hand-over): the new agent starts beside the old one,
//   starts everything, then writes the handover-complete file; the supervisor then stops the old
//   agent, which stops its nodes gracefully and releases them; the new agent takes them over and
//   starts them from the shared state volume. The node service defers node starts to whenOwner().
// - Health: device tags station.health / .version / .nodes.* through the balena API, periodically.
import { randomUUID } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../log.ts';
import type { StationStatus } from '../status.ts';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { AGENT_VERSION } from '../version.ts';
import { BalenaApiClient } from './balena-api-client.ts';
import type { FleetEnvironment } from './env.ts';
import { OwnerLease, otherLiveHolder } from './ownership.ts';
import { SupervisorClient } from './supervisor-client.ts';
import { nodeCounts, stationTags } from './tags.ts';
import { UpdateLock } from './update-lock.ts';

/** What a balena hand-over does to the nodes: the station gives the fleet this when it builds it. */
export interface NodeHandOver {
  /** on stop, before the lease is released: stop the nodes gracefully for the next agent */
  releaseNodes(): Promise<void>;
  /** once the lease is ours after a hand-over: start the nodes the old agent stopped */
  resumeNodes(): Promise<void>;
}

export interface FleetDeps {
  /** null: not under balena, the subsystem is off */
  env: FleetEnvironment | null;
  stateDir: string;
  log: Logger;
  /** the station's status (for health tags and the readiness of the other subsystems) */
  status: () => StationStatus;
  reportSeconds: number;
  nodes: NodeHandOver;
}

export interface FleetSummary {
  balena: boolean;
  owner: boolean;
  updateLockHeld: boolean;
  handedOverAt: string | null;
  lastReportAt: string | null;
  takeoverWaitMs: number | null;
}

export class FleetSubsystem implements Subsystem {
  readonly name = 'fleet';
  readonly instance = randomUUID();
  private readonly deps: FleetDeps;
  private readonly lock: UpdateLock | null;
  private readonly lease: OwnerLease;
  private readonly supervisor: SupervisorClient | null;
  private readonly api: BalenaApiClient | null;
  private ownerResolve: () => void = () => undefined;
  private readonly owner: Promise<void>;
  private state: SubsystemHealth = { state: 'starting' };
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private handedOverAt: string | null = null;
  private lastReportAt: string | null = null;
  private takeoverWaitMs: number | null = null;

  constructor(deps: FleetDeps) {
    this.deps = deps;
    const env = deps.env;
    this.lock = env ? new UpdateLock(env.lockPath, this.instance) : null;
    this.lease = new OwnerLease(join(deps.stateDir, 'fleet', 'owner.json'), this.instance, AGENT_VERSION);
    this.supervisor = env ? new SupervisorClient(env.supervisorAddress, env.supervisorApiKey) : null;
    this.api = env?.apiUrl && env.apiKey && env.deviceUuid ? new BalenaApiClient(env.apiUrl, env.apiKey) : null;
    this.owner = new Promise((resolve) => {
      this.ownerResolve = resolve;
    });
    // Not under balena: no other agent can hold the nodes, so node changes never wait (even when
    // this subsystem is disabled and never started).
    if (!env) this.ownerResolve();
  }

  /** Runs fn holding balena's update lock (just runs it when not under balena). */
  withUpdateLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock ? this.lock.withUpdateLock(fn) : fn();
  }

  /** Resolves once this agent drives the nodes (at once when not under balena or alone). */
  whenOwner(): Promise<void> {
    return this.owner;
  }

  async start(): Promise<void> {
    const env = this.deps.env;
    if (!env) {
      this.state = { state: 'off', reason: 'not running under a balena supervisor (BALENA_SUPERVISOR_ADDRESS unset)' };
      this.ownerResolve();
      return;
    }
    const log = this.deps.log;
    const reachable = await this.supervisor!.ping().catch(() => false);
    const lease = await this.lease.read();
    const other = otherLiveHolder(lease, this.instance, Date.now());
    await this.lock!.removeStale((instance) => instance === other);
    if (other) {
      // A hand-over: the previous agent still drives the nodes. Everything else of ours has
      // started (this subsystem starts last), so we are ready: tell the supervisor, then wait.
      log.info({ previous: other, version: lease?.version }, 'hand-over: ready, signalling the supervisor');
      await mkdir(dirname(env.handoverPath), { recursive: true });
      await writeFile(env.handoverPath, `${this.instance}\n`);
      this.handedOverAt = new Date().toISOString();
      this.takeoverWaitMs = await this.lease.acquire({ signal: this.abort.signal });
      await unlink(env.handoverPath).catch(() => undefined);
      log.info({ waitedMs: this.takeoverWaitMs }, 'hand-over: the previous agent released the nodes; taking over');
      // Owner first: resuming starts nodes through the gated driver, which waits for it.
      this.ownerResolve();
      await this.deps.nodes.resumeNodes().catch((error: unknown) => log.error({ err: error }, 'hand-over: resuming the nodes failed'));
    } else {
      // Alone: a file left by an earlier hand-over would end the next one before its agent is ready.
      await unlink(env.handoverPath).catch(() => undefined);
      await this.lease.acquire();
    }
    this.ownerResolve();
    this.state = reachable ? { state: 'ok' } : { state: 'degraded', reason: `the balena supervisor at ${env.supervisorAddress} does not answer /ping` };
    // The first report once the whole station has started (this start() returns just before).
    setTimeout(() => void this.report(), 0).unref();
    this.timer = setInterval(() => void this.report(), this.deps.reportSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    if (!this.deps.env || !this.lease.isOwner) return;
    // Under balena the container goes away with this process, and the nodes with it: stop them
    // cleanly first, then let the next agent have them.
    await this.deps.nodes.releaseNodes().catch((error: unknown) => this.deps.log.error({ err: error }, 'hand-over: stopping the nodes failed'));
    await this.lease.release();
  }

  /** Reports health, version and node counts as device tags; failures only degrade health. */
  async report(): Promise<void> {
    const env = this.deps.env;
    if (!env) return;
    const reachable = await this.supervisor!.ping().catch(() => false);
    let reason: string | undefined = reachable ? undefined : `the balena supervisor at ${env.supervisorAddress} does not answer /ping`;
    if (this.api && env.deviceUuid) {
      const status = this.deps.status();
      if (status.health === 'starting') {
        setTimeout(() => void this.report(), 1000).unref();
        return;
      }
      try {
        await this.api.setTags(
          env.deviceUuid,
          stationTags({
            name: status.name,
            version: status.version,
            health: status.health,
            nodes: nodeCounts(status.summaries),
            owner: this.lease.isOwner,
          }),
        );
        this.lastReportAt = new Date().toISOString();
      } catch (error) {
        reason ??= (error as Error).message;
      }
    }
    this.state = reason ? { state: 'degraded', reason } : { state: 'ok' };
  }

  health(): SubsystemHealth {
    return this.state;
  }

  summary(): Record<string, unknown> & FleetSummary {
    return {
      balena: this.deps.env !== null,
      owner: this.lease.isOwner,
      updateLockHeld: this.lock?.held ?? false,
      handedOverAt: this.handedOverAt,
      lastReportAt: this.lastReportAt,
      takeoverWaitMs: this.takeoverWaitMs,
    };
  }
}
