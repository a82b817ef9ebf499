// What an orchestrated node's network policy gets besides its own rules (pure): the cluster's ports
// to and from the owner's stations (their mesh addresses and node subnets), both ways, since a node's
// policy denies everything it does not name. Docker Swarm: 2377/tcp (cluster management), 7946/tcp
// and udp (gossip), 4789/udp (the overlay's VXLAN), 5000/tcp (the cluster's registry). K3s: 6443/tcp (API, and servers' supervisor),
// 2379-2380/tcp (embedded etcd), 10250/tcp (kubelet), 8472/udp (flannel's VXLAN). MicroK8s: 16443/tcp
// (API), 25000/tcp (its cluster agent: joins), 19001/tcp (dqlite), 10250/tcp (kubelet), 4789/udp
// (Calico's VXLAN). Each is the engine's documented list of ports between nodes. And the overlay's MTU: VXLAN adds 50 bytes to
// every packet, which must still fit inside Nebula's: Docker's overlay MTU option is the size of the
// packet it sends (it takes the 50 bytes off inside), so it is Nebula's tun MTU itself (measured: 1300
// gives containers 1250, and 2 MiB between stations passes).
import { MESH_MTU } from '../mesh/nebula-config.ts';
import type { NodeSpec } from '../nodes/spec.ts';
import { clusterName } from './cluster-entry.ts';

export const overlayMtu = (): number => MESH_MTU;

type Ports = { ports: number[]; proto: 'tcp' | 'udp' }[];

const CLUSTER_PORTS: Record<NonNullable<NodeSpec['orchestrator']>['kind'], Ports> = {
  swarm: [
    { ports: [2377, 7946, 5000], proto: 'tcp' },
    { ports: [7946, 4789], proto: 'udp' },
  ],
  k3s: [
    { ports: [6443, 2379, 2380, 10250], proto: 'tcp' },
    { ports: [8472], proto: 'udp' },
  ],
  microk8s: [
    { ports: [16443, 25000, 19001, 10250], proto: 'tcp' },
    { ports: [4789], proto: 'udp' },
  ],
};

/**
 * The node's policy with its cluster's ports added, and, for the one manager node of the cluster on
 * this station that claims it, the cluster's name as a Dynamic Alias (CLUSTER.OWNER.<domain>: the
 * cluster's managers answer to it on every station, the newest claim winning). Unchanged for a node
 * without an orchestrator, or in no mesh.
 */
export function withClusterPorts(spec: NodeSpec, policy: NodeSpec['network'], o: { owner: string | null; claimsAlias: boolean }): NodeSpec['network'] {
  if (!spec.orchestrator || !o.owner) return policy;
  const ports = CLUSTER_PORTS[spec.orchestrator.kind];
  const peer = `owner:${o.owner}`;
  const aliases = policy?.aliases ?? [];
  const alias = clusterName(spec.orchestrator.cluster);
  return {
    ...policy,
    ingress: [...(policy?.ingress ?? []), ...ports.map((p) => ({ from: peer, ...p }))],
    egress: [...(policy?.egress ?? []), ...ports.map((p) => ({ to: peer, ...p }))],
    ...(o.claimsAlias && !aliases.includes(alias) ? { aliases: [...aliases, alias] } : {}),
  } as NodeSpec['network'];
}

/** Which of these nodes claims its cluster's alias here: the first node (by name) of each cluster that is not a worker by its spec. */
export function clusterAliasClaimers(specs: NodeSpec[]): Set<string> {
  const first = new Map<string, string>();
  for (const spec of [...specs].sort((a, b) => a.name.localeCompare(b.name)))
    if (spec.orchestrator && spec.orchestrator.role !== 'worker' && !first.has(clusterName(spec.orchestrator.cluster)))
      first.set(clusterName(spec.orchestrator.cluster), spec.name);
  return new Set(first.values());
}
