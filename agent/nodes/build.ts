// From a stored node (spec + its address) to what the driver builds, pure. The build's hash tells
// the planner whether an existing container still matches its spec (else it is recreated).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { NodeBuild } from './driver.ts';
import type { NodeSpec } from './spec.ts';
import { nodeNetwork, type Subnet } from './ipam.ts';

export interface BuildContext {
  subnet: Subnet;
  bridge: string;
  /** stateDir/volumes */
  volumesRoot: string;
}

/** The host directory of one volume: stateDir/volumes/<node>/<volume> (names are DNS labels). */
export function volumeSource(volumesRoot: string, node: string, volume: string): string {
  return join(volumesRoot, node, volume);
}

export function toBuild(spec: NodeSpec, address: string, context: BuildContext): NodeBuild {
  const build: NodeBuild = {
    name: spec.name,
    hostname: spec.name,
    template: spec.template,
    profile: spec.profile,
    network: nodeNetwork(context.subnet, address, context.bridge),
    volumes: spec.volumes.map((v) => ({ name: v.name, source: volumeSource(context.volumesRoot, spec.name, v.name), path: v.path })),
    env: { ...spec.env },
    modules: spec.modules.map((m) => ({ ...m })),
    autostart: spec.autostart,
  };
  if (spec.resources.cpus !== undefined) build.cpus = spec.resources.cpus;
  if (spec.resources.memoryMB !== undefined) build.memoryMB = spec.resources.memoryMB;
  return build;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/**
 * What the container is made from. autostart is left out: the agent starts nodes itself, so
 * changing it must not recreate a running node. Labels and network policy are not in the build.
 */
export function buildHash(build: NodeBuild): string {
  const { autostart: _ignored, ...rest } = build;
  return createHash('sha256').update(JSON.stringify(canonical(rest))).digest('hex').slice(0, 16);
}
