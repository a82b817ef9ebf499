// One node's place in its Kubernetes cluster (K3s or MicroK8s), brought a step closer each round, as
// swarm-member.ts does for Docker Swarm: the engine installed from the station's imported bundle, then
// joined through an offer from a control-plane node of the cluster (on this station or another of the
// owner's), or started where the owner's lease store names this node the founder; then watched. A
// control-plane node lists the cluster's nodes, so its report carries the cluster's health.
import type { NodeView } from '../../nodes/view.ts';
import { judgeCluster, noQuorumView } from '../cluster-health.ts';
import { type JoinOffer, type MemberReport, type SwarmMemberDeps, startingReport } from '../swarm/swarm-member.ts';
import type { BundleSource, KubeEngine, KubeNodeFacts } from './kube-engine.ts';
import { kubeMemberViews } from './kube-parse.ts';

export interface KubeMemberDeps extends Pick<SwarmMemberDeps, 'findOffer' | 'claimFounder'> {
  engine: KubeEngine;
  /** the newest imported bundle of the engine's kind (null: none was imported); its id tells imports apart */
  bundle(): Promise<{ version: string; id: string; files: BundleSource[] } | null>;
  /** the bundle last installed in this node whose engine then did not run (it is not copied in again) */
  failedInstall: { get(): string | null; set(id: string): void };
  facts: KubeNodeFacts;
}

export async function convergeKubeMember(deps: KubeMemberDeps, view: NodeView): Promise<MemberReport> {
  const { engine } = deps;
  const report = startingReport(engine.kind, view.spec.orchestrator!);
  if (view.state !== 'running') return { ...report, state: 'stopped', reason: `the node is ${view.state}` };
  try {
    report.engineVersion = await engine.installedVersion();
    if (!report.engineVersion) {
      const bundle = await deps.bundle();
      if (!bundle) return { ...report, state: 'error', reason: `${engine.kind} needs an offline bundle: none was imported (station bundle import FILE)` };
      const broken = `${engine.kind} ${bundle.version} was installed but does not run in the node: import a bundle of this station's architecture`;
      // a bundle that did not run is not copied in again each round (hundreds of MB): only a new import is
      if (deps.failedInstall.get() === bundle.id) return { ...report, state: 'error', reason: broken };
      await engine.install(bundle.files);
      report.engineVersion = await engine.installedVersion();
      if (!report.engineVersion) {
        deps.failedInstall.set(bundle.id);
        return { ...report, state: 'error', reason: broken };
      }
    }
    const joinedAs = await engine.joinedAs();
    if (!joinedAs) {
      const waiting = await enter(deps, view);
      return { ...report, state: waiting ? 'forming' : 'joining', reason: waiting ?? `${engine.kind} is starting` };
    }
    if (!(await engine.ready())) return { ...report, state: 'joining', reason: `${engine.kind} is starting or joining` };
    report.state = 'member';
    report.memberId = deps.facts.nodeName;
    // only a control-plane node may list the cluster: a worker has no credentials for its API
    report.memberRole = joinedAs;
    if (joinedAs === 'manager') {
      const members = await engine.members().catch(() => null);
      const leader = members ? await engine.leader().catch(() => null) : null;
      report.view = members
        ? judgeCluster(kubeMemberViews(members, leader))
        : noQuorumView(`${engine.kind}'s API does not list the cluster: without a quorum of its datastore it cannot`);
    }
    return report;
  } catch (error) {
    return { ...report, state: 'error', reason: (error as Error).message };
  }
}

/** Joins the cluster, or starts it where this node is its founder; a reason while it must wait. */
async function enter(deps: KubeMemberDeps, view: NodeView): Promise<string | null> {
  const o = view.spec.orchestrator!;
  const offer: JoinOffer | null = await deps.findOffer(o.cluster, o.role, view.name);
  if (offer) {
    await deps.engine.join(offer, deps.facts);
    return null;
  }
  const claim = await deps.claimFounder(o.cluster, view.name);
  if (!claim.founder) return claim.reason;
  if (o.role === 'worker') return `no control-plane node of cluster ${o.cluster} runs yet: a worker cannot start it`;
  await deps.engine.found(deps.facts);
  return null;
}
