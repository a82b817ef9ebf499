// From a stored node (spec + its address) to what the driver builds, pure. The build's hash tells
// the planner whether an existing container still matches its spec (else it is recreated).
import { createHash } from 'node:crypto';
import type { NodeBuild } from './driver.ts';
import { DEFAULT_NODE_PROCESSES, type NodeSpec } from './spec.ts';
import { nodeNetwork, type Subnet } from './ipam.ts';
import { MESH_MTU } from '../mesh/nebula-config.ts';
import type { VolumeDriver } from '../storage/driver.ts';

export interface BuildContext {
  subnet: Subnet;
  bridge: string;
  /** where volumes live: nodes ask it for mount sources */
  storage: VolumeDriver;
}

/**
 * The packages an orchestrator needs inside the node, installed like any module's (agent/orchestrator/
 * runs the engine once it answers). Docker Swarm: Debian's docker.io, whose dockerd systemd starts.
 * MicroK8s and K3s come from an imported bundle instead.
 */
function engineModules(spec: NodeSpec): NodeBuild['modules'] {
  const kind = spec.orchestrator?.kind;
  // the cluster's own registry runs in every swarm node (swarm/swarm-registry.ts)
  if (kind === 'swarm') return [{ name: 'station-docker', packages: ['docker.io', 'docker-registry'] }];
  // snapd installs the bundle's snaps offline; unprivileged, it mounts them with squashfuse
  if (kind === 'microk8s') return [{ name: 'station-snapd', packages: ['snapd', 'squashfuse'] }];
  return [];
}

/**
 * A Kubernetes node's eth0 is as large as the mesh's MTU: flannel (K3s) and Calico (MicroK8s) size
 * their VXLAN overlay from it, so their packets fit inside Nebula's. Docker's overlay takes its MTU
 * as an option instead (orchestrator-policy.ts).
 */
function nodeMtu(spec: NodeSpec): { mtu?: number } {
  const kind = spec.orchestrator?.kind;
  return kind === 'k3s' || kind === 'microk8s' ? { mtu: MESH_MTU } : {};
}

export function toBuild(spec: NodeSpec, address: string, context: BuildContext): NodeBuild {
  const build: NodeBuild = {
    name: spec.name,
    hostname: spec.name,
    template: spec.template,
    profile: spec.profile,
    network: { ...nodeNetwork(context.subnet, address, context.bridge), ...nodeMtu(spec) },
    volumes: spec.volumes.map((v) => ({
      name: v.name,
      source: context.storage.mountSource({ node: spec.name, volume: v.name }),
      path: v.path,
    })),
    env: { ...spec.env },
    modules: [...spec.modules.map((m) => ({ ...m })), ...engineModules(spec)],
    autostart: spec.autostart,
    processes: spec.resources.processes ?? DEFAULT_NODE_PROCESSES,
  };
  if (spec.resources.cpus !== undefined) build.cpus = spec.resources.cpus;
  if (spec.resources.memoryMB !== undefined) build.memoryMB = spec.resources.memoryMB;
  return build;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * What the container is made from. autostart is left out: the agent starts nodes itself, so
 * changing it must not recreate a running node. Labels and network policy are not in the build.
 * The default process limit is left out too: nodes made before it existed are not all recreated
 * when the agent is updated (they get the limit when something else recreates them).
 */
export function buildHash(build: NodeBuild): string {
  const { autostart: _ignored, processes, ...rest } = build;
  const hashed = processes === DEFAULT_NODE_PROCESSES ? rest : { ...rest, processes };
  return createHash('sha256')
    .update(JSON.stringify(canonical(hashed)))
    .digest('hex')
    .slice(0, 16);
}
