// What Kubernetes says, read (pure): `kubectl get nodes -o json` (a NodeList of the published API), the
// controller manager's leader lease, and the versions K3s and MicroK8s print. Tested on recorded real
// output (test/fixtures/kube/README.md says where each came from).
import type { ClusterMemberView } from '../cluster-health.ts';

interface ApiNode {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type?: string; status?: string }[];
    nodeInfo?: { kubeletVersion?: string };
    addresses?: { type?: string; address?: string }[];
  };
}

export interface KubeMember {
  name: string;
  uid: string;
  /** a control-plane node (a K3s server; for MicroK8s, a datastore voter) */
  controlPlane: boolean;
  /** the Ready condition: True, False or Unknown (Unknown: its kubelet stopped reporting) */
  ready: 'True' | 'False' | 'Unknown';
  unschedulable: boolean;
  kubeletVersion: string;
  internalIp: string | null;
}

/** labels that mark a control-plane node: upstream's and K3s's (master, etcd); MicroK8s sets none (microk8s-engine.ts) */
const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master', 'node-role.kubernetes.io/etcd'];

export class KubeParseError extends Error {}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new KubeParseError(`${what} is not JSON: ${text.trim().slice(0, 120) || 'empty'}`);
  }
}

export function parseNodeList(text: string): KubeMember[] {
  const list = json(text, 'kubectl get nodes') as { kind?: string; items?: ApiNode[] };
  if (list?.kind !== 'List' && list?.kind !== 'NodeList') throw new KubeParseError(`kubectl get nodes gave a ${list?.kind ?? 'nameless'} object, not a list`);
  return (list.items ?? []).map((n) => {
    const labels = n.metadata?.labels ?? {};
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    return {
      name: n.metadata?.name ?? '?',
      uid: n.metadata?.uid ?? n.metadata?.name ?? '?',
      controlPlane: CONTROL_PLANE_LABELS.some((l) => l in labels),
      ready: ready === 'True' || ready === 'False' ? ready : 'Unknown',
      unschedulable: n.spec?.unschedulable === true,
      kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '',
      internalIp: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? null,
    };
  });
}

/**
 * The node holding a leader lease (`kubectl get lease -n kube-system kube-controller-manager -o json`):
 * its holderIdentity is NODE_UUID; null when nobody holds it.
 */
export function parseLeaseHolder(text: string): string | null {
  const lease = json(text, 'kubectl get lease') as { spec?: { holderIdentity?: string } };
  const holder = lease?.spec?.holderIdentity;
  return holder ? holder.split('_')[0]! : null;
}

/** A cluster's members as the health judge sees them: control-plane nodes are its managers. */
export function kubeMemberViews(members: KubeMember[], leader: string | null): ClusterMemberView[] {
  return members.map((m) => ({
    id: m.uid,
    hostname: m.name,
    role: m.controlPlane ? 'manager' : 'worker',
    state: m.ready === 'True' ? 'ready' : m.ready === 'False' ? 'not-ready' : 'unknown',
    leader: m.name === leader,
    // a control-plane node whose kubelet reports is taken as reachable by the others
    reachable: m.controlPlane ? m.ready === 'True' : null,
    availability: m.unschedulable ? 'pause' : 'active',
    engineVersion: m.kubeletVersion,
  }));
}

/** `k3s --version`: "k3s version v1.28.3+k3s2 (bbafb86e)" -> v1.28.3+k3s2 */
export function parseK3sVersion(text: string): string | null {
  return /^k3s version (v\S+)/m.exec(text)?.[1] ?? null;
}

/** `microk8s version`: "MicroK8s v1.28.3 revision 6089" (later "revision: 6089") -> v1.28.3 (revision 6089) */
export function parseMicrok8sVersion(text: string): string | null {
  const m = /^MicroK8s (v\S+) revision:? (\d+)/m.exec(text);
  return m ? `${m[1]} (revision ${m[2]})` : null;
}

export interface JoinTarget {
  /** where the joining node connects: ADDRESS:25000 */
  address: string;
  token: string;
  /** the fingerprint part after the token, by which the joining node checks the cluster's certificate */
  hash: string;
}

/**
 * `microk8s add-node`: the `microk8s join ADDRESS:PORT/TOKEN/HASH` commands it prints, one per
 * address of the node (with and without --worker: each address once), in the order printed.
 */
export function parseAddNode(text: string): JoinTarget[] {
  const seen = new Map<string, JoinTarget>();
  for (const m of text.matchAll(/^\s*microk8s join ([^\s/]+:\d+)\/([^\s/]+)\/([^\s/]+)/gm))
    if (!seen.has(m[1]!)) seen.set(m[1]!, { address: m[1]!, token: m[2]!, hash: m[3]! });
  return [...seen.values()];
}

export interface Microk8sStatus {
  running: boolean;
  /** high-availability: yes/no (null: not said, as when it is not running) */
  ha: boolean | null;
  /** the datastore's voters and standbys, by address (without dqlite's port 19001) */
  voters: string[];
  standby: string[];
}

/** `microk8s status` (text): whether it runs, and its datastore's voters ("master nodes") and standbys. */
export function parseMicrok8sStatus(text: string): Microk8sStatus {
  const running = /^microk8s is running$/m.test(text);
  const ha = /^high-availability: (yes|no)$/m.exec(text)?.[1];
  const list = (label: string) =>
    (new RegExp(`^\\s*datastore ${label} nodes: (.*)$`, 'm').exec(text)?.[1] ?? '')
      .split(/\s+/)
      .filter((a) => a && a !== 'none')
      .map((a) => a.replace(/:\d+$/, ''));
  return { running, ha: ha === undefined ? null : ha === 'yes', voters: list('master'), standby: list('standby') };
}
