// One node's place in its Docker Swarm, brought a step closer each round (swarm-engine.ts runs the
// commands in the node). A node outside any swarm first asks for a way in: a manager node of the
// cluster on this station, else the owner's other stations over the mesh (a join token and the
// managers' addresses, never logged). When nobody has the cluster yet, it starts it only if the
// owner's lease store names it the founder (one key, created where absent, on a short lease): two
// stations never start two swarms of one name. Once in, a manager keeps the cluster's overlay
// network and every member the station/busybox image (imported from the host's busybox-static).
import type { Readable } from 'node:stream';
import type { NodeOrchestrator, OrchestratorRole } from '../../nodes/spec.ts';
import type { NodeView } from '../../nodes/view.ts';
import { type ClusterView, clusterView, noQuorumView } from '../cluster-health.ts';
import { useClusterRegistry } from './swarm-registry.ts';
import { BUSYBOX_IMAGE, type NodeExec, SwarmCommandError, SwarmEngine } from './swarm-engine.ts';

export type MemberState = 'stopped' | 'starting' | 'forming' | 'joining' | 'member' | 'error';

/** What a member of any engine reports (kube/kube-member.ts makes it for K3s and MicroK8s). */
export interface MemberReport {
  kind: NodeOrchestrator['kind'];
  cluster: string;
  /** what the spec asks for (auto: a manager while the cluster has fewer than three) */
  role: OrchestratorRole;
  state: MemberState;
  /** why it is not (yet) a member, or what it waits for */
  reason: string | null;
  engineVersion: string | null;
  /** its own standing: a manager (a Swarm manager, a Kubernetes control-plane node) or a worker */
  memberRole: 'manager' | 'worker' | null;
  /** its id in the swarm (as the cluster's member list names it) */
  memberId: string | null;
  /** the cluster as this member sees it (a manager lists every member; a worker only knows the managers) */
  view: ClusterView | null;
}

/** A way into a cluster: a join token, the role it joins with, and the managers to join through (host:port). */
export interface JoinOffer {
  token: string;
  managers: string[];
  role: 'manager' | 'worker';
}

export interface SwarmMemberDeps {
  exec: NodeExec;
  /** a way in from a manager of the cluster on this station or another of the owner's (null: none has it) */
  findOffer(cluster: string, role: OrchestratorRole, self: string): Promise<JoinOffer | null>;
  /** whether this node may start the cluster now (the founder's key is its own), or who may (a reason) */
  claimFounder(cluster: string, node: string): Promise<{ founder: true } | { founder: false; reason: string }>;
  /** the station/busybox image as a tar, and its tag */
  busyboxImage(): Promise<{ tag: string; tar: () => Readable }>;
  /** the cluster's registry (CLUSTER.OWNER.<domain>:5000), set up before joining; null in no mesh */
  registry: string | null;
  /** the MTU of the cluster's overlay network (inside Nebula's) */
  overlayMtu: number;
  /** whether the image and the overlay network are checked this round (not every round: five commands each) */
  upkeepDue: boolean;
  /** both were found in place (or made) */
  kept(): void;
}

/** A member's report before anything is known of it (every engine's round starts from it). */
export function startingReport(kind: NodeOrchestrator['kind'], o: NodeOrchestrator): MemberReport {
  return { kind, cluster: o.cluster, role: o.role, state: 'starting', reason: null, engineVersion: null, memberRole: null, memberId: null, view: null };
}

/** The address a node advertises: its own, which other stations' nodes reach over the mesh. */
const nodeAddress = (view: NodeView): string => view.address.split('/')[0]!;

export async function convergeSwarmMember(deps: SwarmMemberDeps, view: NodeView): Promise<MemberReport> {
  const report = startingReport('swarm', view.spec.orchestrator!);
  if (view.state !== 'running') return { ...report, state: 'stopped', reason: `the node is ${view.state}` };
  const engine = new SwarmEngine(deps.exec, view.name);
  try {
    report.engineVersion = await engine.version();
    if (!report.engineVersion) return { ...report, reason: 'dockerd does not answer yet (docker.io installing or starting)' };
    let info = await engine.info();
    if (info.state === 'inactive') {
      if (deps.registry && (await useClusterRegistry(deps.exec, view.name, deps.registry)))
        return { ...report, reason: `dockerd restarting to trust the cluster's registry ${deps.registry}` };
      const waiting = await enter(deps, engine, view);
      if (waiting) return { ...report, state: 'forming', reason: waiting };
      info = await engine.info();
    }
    if (info.state === 'pending') return { ...report, state: 'joining', reason: `joining through ${info.managers.join(', ') || 'a manager'}` };
    if (info.state !== 'active') return { ...report, state: 'error', reason: `the swarm says ${info.state}${info.error ? `: ${info.error}` : ''}` };
    report.state = 'member';
    report.memberRole = info.manager ? 'manager' : 'worker';
    report.memberId = info.nodeId;
    if (deps.upkeepDue) {
      await keepImage(deps, engine);
      // a manager makes the overlay network; it needs a quorum, so a failure is tried again next round
      const overlay = info.manager
        ? await engine.ensureOverlay(deps.overlayMtu).then(
            () => true,
            () => false,
          )
        : true;
      if (overlay) deps.kept();
    }
    if (info.manager) {
      // without a leader the engine says so in its info, and `docker node ls` would hang half a minute first
      report.view = info.error ? noQuorumView(info.error) : await engine.members().then(clusterView, (error: Error) => noQuorumView(error.message));
    }
    return report;
  } catch (error) {
    const why = error instanceof SwarmCommandError ? error.message : `${(error as Error).message}`;
    return { ...report, state: 'error', reason: why };
  }
}

/** Joins the cluster, or starts it where this node is its founder; a reason while it must wait. */
async function enter(deps: SwarmMemberDeps, engine: SwarmEngine, view: NodeView): Promise<string | null> {
  const o = view.spec.orchestrator!;
  const address = nodeAddress(view);
  const offer = await deps.findOffer(o.cluster, o.role, view.name);
  if (offer) {
    const errors: string[] = [];
    for (const manager of offer.managers) {
      try {
        await engine.join(offer.token, address, manager);
        return null;
      } catch (error) {
        // a join that outlasted its timeout goes on in the background: the next round sees it pending
        if (error instanceof SwarmCommandError && error.kind === 'join-timeout') return null;
        errors.push((error as Error).message);
      }
    }
    return `joining failed through every manager: ${errors.join('; ')}`;
  }
  const claim = await deps.claimFounder(o.cluster, view.name);
  if (!claim.founder) return claim.reason;
  if (o.role === 'worker') return `no manager of cluster ${o.cluster} runs yet: a worker cannot start it`;
  await engine.init(address);
  return null;
}

/** Every member holds station/busybox (checked each round: a person may have removed it). */
async function keepImage(deps: SwarmMemberDeps, engine: SwarmEngine): Promise<void> {
  const image = await deps.busyboxImage();
  const ref = `${BUSYBOX_IMAGE}:${image.tag}`;
  if (!(await engine.hasImage(ref))) await engine.importImage(ref, image.tar());
}
