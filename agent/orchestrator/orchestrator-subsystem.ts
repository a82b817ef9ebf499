// Orchestrators inside nodes (issue 15, docs/orchestrators.md): every node whose spec names an
// orchestrator cluster is brought a step closer to being a member of it each round: the engine
// answering inside the node, then joined (or, as the cluster's founder, started), then kept (image,
// overlay network) and watched. What each member sees of its cluster (members, leader, managers
// reachable, health) is its report: in GET /nodes/:name, the page, and the orchestrator.* events.
// Docker Swarm is real here; MicroK8s and K3s are installed from an offline bundle imported on the
// station (kube/), and say so until one is given.
import type { Config } from '../config/schema.ts';
import type { EventBus } from '../events.ts';
import type { Runner } from '../exec.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { MeshInfo } from '../mesh/mesh-info.ts';
import type { MemberRecord } from '../mesh/mesh-state.ts';
import type { PeerView } from '../mesh/peers.ts';
import type { NodeSpec, OrchestratorRole } from '../nodes/spec.ts';
import type { NodeView } from '../nodes/view.ts';
import type { EtcdClient } from '../replicas/lease/etcd-client.ts';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { BusyboxImage } from './busybox-image.ts';
import { BundleStore } from './bundles/bundle-store.ts';
import { aliasName } from '../network/alias/records.ts';
import { ClusterEntry, type ClusterPeers, clusterName, joinRole } from './cluster-entry.ts';
import { overlayMtu } from './orchestrator-policy.ts';
import { K3sEngine } from './kube/k3s-engine.ts';
import type { KubeEngine, KubeNodeFacts } from './kube/kube-engine.ts';
import { convergeKubeMember } from './kube/kube-member.ts';
import { Microk8sEngine } from './kube/microk8s-engine.ts';
import { type NodeExec, SwarmEngine, SWARM_PORT } from './swarm/swarm-engine.ts';
import { REGISTRY_PORT } from './swarm/swarm-registry.ts';
import { convergeSwarmMember, type JoinOffer, type MemberReport } from './swarm/swarm-member.ts';

/** how often each member is brought a step closer and looked at */
const ROUND_MS = 5000;
/** how often a member's image and overlay network are checked once they were in place */
const UPKEEP_MS = 60_000;

export interface OrchestratorDeps {
  config: Pick<Config, 'stateDir' | 'domain'>;
  run: Runner;
  events: EventBus;
  log: Logger;
  nodes: { list(): NodeView[]; exec: NodeExec };
  mesh: { info(): MeshInfo; peers(): PeerView[] };
  leaseStore: { client(): EtcdClient | null };
  peers: ClusterPeers;
}

export type OrchestratorReport = MemberReport;

export class OrchestratorSubsystem implements Subsystem {
  readonly name = 'orchestrator';
  private readonly deps: OrchestratorDeps;
  private readonly reports = new Map<string, OrchestratorReport>();
  /** when each member's image and overlay network were last found in place */
  private readonly keptAt = new Map<string, number>();
  /** per Kubernetes node, the bundle whose install did not run there (not copied in again) */
  private readonly failedInstalls = new Map<string, string>();
  private readonly busybox: BusyboxImage;
  /** offline MicroK8s and K3s bundles imported on this station */
  readonly bundles: BundleStore;
  private readonly entry: ClusterEntry;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(deps: OrchestratorDeps) {
    this.deps = deps;
    this.busybox = new BusyboxImage(deps.config.stateDir, deps.run);
    this.bundles = new BundleStore(deps.config.stateDir, deps.run);
    this.entry = new ClusterEntry({
      log: deps.log,
      mesh: deps.mesh,
      leaseStore: deps.leaseStore,
      peers: deps.peers,
      nodes: () => deps.nodes.list(),
      localOffer: (node, role) => this.offerFrom(node, role),
    });
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => void this.round(), ROUND_MS);
    this.timer.unref();
    void this.round();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  health(): SubsystemHealth {
    const failing = [...this.reports.entries()].filter(([, r]) => r.state === 'error');
    return failing.length ? { state: 'degraded', reason: failing.map(([node, r]) => `${node}: ${r.reason}`).join('; ') } : { state: 'ok' };
  }

  /** A node's cluster checked against the mesh: a cluster named with another owner is refused (400, nothing made). */
  checkSpec(o: NonNullable<NodeSpec['orchestrator']>): void {
    const [, owner] = o.cluster.split('.');
    const own = this.deps.mesh.info().owner;
    if (owner && owner !== own)
      throw new ValidationError(
        'ORCHESTRATOR_OTHER_OWNER',
        `cluster ${o.cluster} is ${owner}'s: this station's nodes join only ${own ? `${own}'s` : 'its own'} clusters`,
      );
  }

  /** The node's orchestrator as last seen (null: it names none, or it was not looked at yet). */
  report(node: string): OrchestratorReport | null {
    return this.reports.get(node) ?? null;
  }

  /** Every orchestrated node of this station with its report. */
  members(): { node: string; report: OrchestratorReport }[] {
    return [...this.reports.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([node, report]) => ({ node, report }));
  }

  /**
   * Another of the owner's stations asks for a way into `cluster` (station-to-station, over the mesh):
   * a join token for `role` from a manager of it here, and its managers' addresses.
   */
  async joinOffer(caller: MemberRecord, cluster: string, kind: string, role: OrchestratorRole): Promise<JoinOffer> {
    const owner = this.deps.mesh.info().owner;
    if (caller.owner !== owner) throw new ForbiddenError('NOT_THE_OWNER', `cluster ${cluster} is ${owner}'s: ${caller.name} belongs to ${caller.owner}`);
    const managers = this.deps.nodes
      .list()
      .filter((n) => n.spec.orchestrator?.kind === kind && clusterName(n.spec.orchestrator.cluster) === cluster)
      .filter((n) => {
        const r = this.reports.get(n.name);
        return r?.state === 'member' && r.memberRole === 'manager';
      });
    for (const node of managers) {
      const offer = await this.offerFrom(node.name, role).catch(() => null);
      if (offer) return offer;
    }
    throw new NotFoundError('CLUSTER_NOT_HERE', `no manager of ${kind} cluster ${cluster} runs on this station`);
  }

  private async offerFrom(node: string, role: OrchestratorRole): Promise<JoinOffer | null> {
    const r = this.reports.get(node);
    if (r?.state !== 'member' || r.memberRole !== 'manager') return null;
    const as = joinRole(role, r.view?.managers.total ?? null);
    if (r.kind !== 'swarm') {
      const view = this.deps.nodes.list().find((n) => n.name === node);
      return view ? this.kubeEngine(r.kind, node).offer(as, this.kubeFacts(view)) : null;
    }
    const engine = new SwarmEngine(this.deps.nodes.exec, node);
    const info = await engine.info();
    if (info.state !== 'active' || !info.manager) return null;
    const own = info.nodeAddress ? [`${info.nodeAddress}:${SWARM_PORT}`] : [];
    const managers = [...new Set([...own, ...info.managers])];
    return { token: await engine.joinToken(as), managers, role: as };
  }

  private async round(): Promise<void> {
    if (this.running) return; // a slow round (a join, an import) is not stacked on
    this.running = true;
    try {
      const nodes = this.deps.nodes.list().filter((n) => n.spec.orchestrator && n.state !== 'deleting');
      for (const name of this.reports.keys())
        if (!nodes.some((n) => n.name === name)) {
          this.reports.delete(name);
          this.keptAt.delete(name);
          this.failedInstalls.delete(name);
        }
      // rounds never overlap, so each node is converged by one round at a time
      await Promise.all(nodes.map((n) => this.converge(n)));
    } catch (error) {
      this.deps.log.warn({ err: error }, 'orchestrator round failed');
    } finally {
      this.running = false;
    }
  }

  private async converge(view: NodeView): Promise<void> {
    const o = view.spec.orchestrator!;
    const alias = this.clusterAlias(view);
    const next: OrchestratorReport =
      o.kind === 'swarm'
        ? await convergeSwarmMember(
            {
              exec: this.deps.nodes.exec,
              findOffer: (cluster, role, self) => this.entry.findOffer('swarm', cluster, role, self),
              claimFounder: (cluster, node) => this.entry.claimFounder('swarm', cluster, node),
              busyboxImage: () => this.busybox.image(),
              overlayMtu: overlayMtu(),
              registry: alias && `${alias}:${REGISTRY_PORT}`,
              // when it just became a member (or came back), and every minute after
              upkeepDue: this.reports.get(view.name)?.state !== 'member' || Date.now() - (this.keptAt.get(view.name) ?? 0) >= UPKEEP_MS,
              kept: () => this.keptAt.set(view.name, Date.now()),
            },
            view,
          )
        : await this.convergeKube(o.kind, view);
    this.note(view.name, next);
  }

  private convergeKube(kind: 'microk8s' | 'k3s', view: NodeView): Promise<MemberReport> {
    const engine = this.kubeEngine(kind, view.name);
    return convergeKubeMember(
      {
        engine,
        bundle: () => this.bundles.newest(engine.kind),
        failedInstall: { get: () => this.failedInstalls.get(view.name) ?? null, set: (id) => this.failedInstalls.set(view.name, id) },
        facts: this.kubeFacts(view),
        findOffer: (cluster, role, self) => this.entry.findOffer(kind, cluster, role, self),
        claimFounder: (cluster, node) => this.entry.claimFounder(kind, cluster, node),
      },
      view,
    );
  }

  private kubeEngine(kind: 'microk8s' | 'k3s', node: string): KubeEngine {
    return kind === 'k3s' ? new K3sEngine(this.deps.nodes.exec, node) : new Microk8sEngine(this.deps.nodes.exec, node);
  }

  /**
   * What a Kubernetes engine is told about its node: a name unique in the cluster (nodes on several
   * stations may share one), its address, and the cluster's Dynamic Alias for its API's certificate.
   */
  private kubeFacts(view: NodeView): KubeNodeFacts {
    const alias = this.clusterAlias(view);
    return { nodeName: `${view.name}.${this.deps.mesh.info().name}`, address: view.address.split('/')[0]!, apiNames: alias ? [alias] : [] };
  }

  /** The name the node's cluster answers to on every station (its Dynamic Alias); null in no mesh. */
  private clusterAlias(view: NodeView): string | null {
    const { owner } = this.deps.mesh.info();
    return owner ? aliasName(clusterName(view.spec.orchestrator!.cluster), owner, this.deps.config.domain) : null;
  }

  /** Keeps the report; a change of state or of the cluster's health is an event. */
  private note(node: string, next: OrchestratorReport): void {
    const before = this.reports.get(node);
    this.reports.set(node, next);
    if (before?.state !== next.state || before?.reason !== next.reason)
      this.deps.events.publish('orchestrator.member', { node, kind: next.kind, cluster: next.cluster, state: next.state, reason: next.reason });
    const health = next.view;
    const was = before?.view ?? null;
    if (health && health.health !== was?.health)
      this.deps.events.publish('orchestrator.cluster', {
        node,
        kind: next.kind,
        cluster: clusterName(next.cluster),
        health: health.health,
        reason: health.reason,
        managers: health.managers.total,
        reachable: health.managers.reachable,
      });
  }
}
