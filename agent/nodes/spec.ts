// The Disposable Node spec: what a user declares, in one JSON document. The schema (TypeBox) gives
// the shape; validateSpec adds the checks a schema cannot express (duplicates, path safety, template
// fit). Both run before anything is created, so a bad spec changes nothing.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { NetworkPolicySchema } from '../network/policy-schema.ts';
import { ValidationError } from '../errors.ts';
import type { ModuleSpec, ProfileName, TemplateName } from './driver.ts';

export const NODE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const Label = Type.String({ pattern: NODE_NAME_PATTERN, description: 'a DNS label: lower-case letters, digits and -' });

// The network policy schema carries an $id for the network routes; inlined here without it, so
// the same schema can sit inside several route schemas without clashing ids.
function withoutId<T extends TSchema>(schema: T): T {
  const copy = { ...schema } as T & { $id?: string };
  delete copy.$id;
  return copy;
}

export const TemplateSchema = Type.Union([Type.Literal('busybox'), Type.Literal('debian')], {
  description: 'busybox (instant) or debian (bookworm, from the cache)',
});
export const ProfileSchema = Type.Union([Type.Literal('plain'), Type.Literal('nesting'), Type.Literal('microk8s')]);

/** A node's process limit unless its spec sets one: a fork bomb in one node cannot take the host's
 * process table (32768 entries on these machines), and Kubernetes or Docker inside fit under it. */
export const DEFAULT_NODE_PROCESSES = 4096;

export const ResourcesSchema = Type.Object(
  {
    cpus: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 256, description: 'CPU limit in cores (fractions allowed)' })),
    memoryMB: Type.Optional(Type.Integer({ minimum: 16, maximum: 1_048_576, description: 'memory limit (and reservation) in MiB' })),
    processes: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 65_536, description: `most processes and threads the node may run at once (default ${DEFAULT_NODE_PROCESSES})` }),
    ),
  },
  { additionalProperties: false },
);

export const VolumeSchema = Type.Object(
  {
    name: Label,
    path: Type.String({ minLength: 1, maxLength: 1024, description: 'absolute path inside the node' }),
    class: Type.Optional(
      Type.Union([Type.Literal('private'), Type.Literal('shared'), Type.Literal('public')], {
        description: 'private (default), shared or public',
      }),
    ),
    sizeMB: Type.Optional(
      Type.Integer({
        minimum: 16,
        maximum: 16_777_216,
        description: 'limit in MiB, enforced on btrfs volumes (a qgroup); df inside the node still shows the whole pool',
      }),
    ),
  },
  { additionalProperties: false },
);

// Infinite Disk per node: how often its volumes are snapshotted and copied to peer stations.
export const DISK_DEFAULTS = { snapshotSeconds: 60, backupSeconds: 600, copies: 3 } as const;
export const DiskSchema = Type.Object(
  {
    snapshotSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 604_800, description: 'seconds between snapshots of all its volumes; 0 turns the schedule off (default 60)' }),
    ),
    backupSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 604_800, description: 'seconds between copies to peer stations; 0 turns the schedule off (default 600)' }),
    ),
    copies: Type.Optional(Type.Integer({ minimum: 0, maximum: 8, description: 'encrypted copies on peer stations, never two on one (default 3)' })),
  },
  { additionalProperties: false },
);
export type NodeDisk = { snapshotSeconds: number; backupSeconds: number; copies: number };

// Replicas per node (docs/replicas.md): the owner's stations holding Inactive copies. The shape is
// checked here; which stations may hold them is the replicas room's check (agent/replicas/replicas-spec.ts).
export const ReplicasSchema = Type.Object(
  {
    stations: Type.Array(Label, { minItems: 1, maxItems: 4, description: "the owner's other stations that hold Inactive copies" }),
    failover: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('manual')], {
        description: 'auto: an Inactive promotes itself once the lease expired (needs three lease store members); manual: only `station node promote`',
      }),
    ),
    maxLagSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400, description: 'an Inactive whose newest snapshot is older than this does not promote itself (default 120)' }),
    ),
  },
  { additionalProperties: false },
);
export type NodeReplicas = { stations: string[]; failover: 'auto' | 'manual'; maxLagSeconds: number };

// An orchestrator inside the node (agent/orchestrator/, docs/orchestrators.md): the agents of the
// owner's stations form one cluster of every node naming it, over the mesh.
export const OrchestratorSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('swarm'), Type.Literal('microk8s'), Type.Literal('k3s')], {
      description: 'swarm: Docker Swarm (Debian docker.io); microk8s and k3s: from a bundle imported with `station bundle import`',
    }),
    cluster: Type.String({
      pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$',
      description: "the cluster's name among the owner's (`home`); `home.OWNER` names the owner, which must be this station's",
    }),
    role: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('manager'), Type.Literal('worker')], {
        description:
          'manager (a Swarm manager, a Kubernetes control-plane voter), worker, or auto (the default: a manager while the cluster has fewer than three)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type OrchestratorRole = 'auto' | 'manager' | 'worker';
export type NodeOrchestrator = { kind: 'swarm' | 'microk8s' | 'k3s'; cluster: string; role: OrchestratorRole };

export const ModuleSchema = Type.Object(
  {
    name: Label,
    run: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'a supervised command (restarted when it dies)' })),
    packages: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]{0,127}$' }), {
        minItems: 1,
        maxItems: 128,
        description: 'Debian packages installed before the commands start (debian template only)',
      }),
    ),
  },
  { additionalProperties: false },
);

const EnvSchema = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }), Type.String({ maxLength: 8192 }), {
  additionalProperties: false,
  maxProperties: 256,
});
const LabelsSchema = Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$' }), Type.String({ maxLength: 256 }), {
  additionalProperties: false,
  maxProperties: 64,
  description: 'free metadata: room, hardware, support contact, ...',
});

export const NodeSpecSchema = Type.Object(
  {
    name: Label,
    template: Type.Optional(TemplateSchema),
    profile: Type.Optional(ProfileSchema),
    resources: Type.Optional(ResourcesSchema),
    volumes: Type.Optional(Type.Array(VolumeSchema, { maxItems: 32 })),
    modules: Type.Optional(Type.Array(ModuleSchema, { maxItems: 32 })),
    env: Type.Optional(EnvSchema),
    autostart: Type.Optional(Type.Boolean({ description: 'start the node whenever the station starts (default true)' })),
    labels: Type.Optional(LabelsSchema),
    network: Type.Optional(withoutId(NetworkPolicySchema)),
    disk: Type.Optional(DiskSchema),
    replicas: Type.Optional(ReplicasSchema),
    orchestrator: Type.Optional(OrchestratorSchema),
  },
  { additionalProperties: false },
);

/** What a user may send. */
export type NodeSpecInput = Static<typeof NodeSpecSchema>;

/** The spec with every default filled in: what is stored and what the planner sees. */
export interface NodeSpec {
  name: string;
  template: TemplateName;
  profile: ProfileName;
  resources: { cpus?: number; memoryMB?: number; processes?: number };
  volumes: { name: string; path: string; class: 'private' | 'shared' | 'public'; sizeMB?: number }[];
  modules: ModuleSpec[];
  env: Record<string, string>;
  autostart: boolean;
  labels: Record<string, string>;
  network?: Static<typeof NetworkPolicySchema>;
  /** left out by specs stored before Infinite Disk: read it through nodeDisk() */
  disk?: NodeDisk;
  /** Inactive copies on the owner's other stations (left out: none) */
  replicas?: NodeReplicas;
  /** the orchestrator cluster this node is a member of (left out: none) */
  orchestrator?: NodeOrchestrator;
}

/** A node's disk schedule and copies, defaults filled in. */
export const nodeDisk = (spec: { disk?: Partial<NodeDisk> }): NodeDisk => ({ ...DISK_DEFAULTS, ...spec.disk });

/** The fields PATCH may change on an existing node (the rest define what it is). */
export const NodePatchSchema = Type.Object(
  {
    resources: Type.Optional(ResourcesSchema),
    modules: Type.Optional(Type.Array(ModuleSchema, { maxItems: 32 })),
    env: Type.Optional(EnvSchema),
    autostart: Type.Optional(Type.Boolean()),
    labels: Type.Optional(LabelsSchema),
    network: Type.Optional(withoutId(NetworkPolicySchema)),
    disk: Type.Optional(DiskSchema),
    replicas: Type.Optional(Type.Union([ReplicasSchema, Type.Null()], { description: 'null: no replicas any more' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type NodePatch = Static<typeof NodePatchSchema>;

const specCheck = TypeCompiler.Compile(NodeSpecSchema);
const patchCheck = TypeCompiler.Compile(NodePatchSchema);

// Paths a volume must never cover: the node's own system would break or leak the host's.
const FORBIDDEN_MOUNTS = ['/', '/proc', '/sys', '/dev', '/run', '/etc', '/bin', '/sbin', '/lib', '/usr'];

function schemaFailure(what: string, errors: Iterable<{ path: string; message: string }>): ValidationError {
  const first = errors[Symbol.iterator]().next().value;
  const where = first?.path ? `${what}${first.path.replace(/\//g, '.')}` : what;
  return new ValidationError('INVALID_SPEC', `${where}: ${first?.message ?? 'invalid'}`);
}

/** Checks a volume's path inside the node: absolute, normalised, and not over a system directory. */
export function checkVolumePath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (FORBIDDEN_MOUNTS.includes(path)) return `must not replace the system directory ${path}`;
  const parts = path.split('/').slice(1);
  if (parts.some((p) => p === '..')) return 'must not contain ".."';
  if (parts.some((p) => p === '.' || p === '')) return 'must be normalised (no "." segments, no "//" or trailing "/")';
  if (/[\s\\:]/.test(path) || path.includes('\0')) return 'must not contain spaces, backslashes, ":" or NUL';
  return undefined;
}

// Env values and module commands are written into a unit file or a shell script inside the node,
// one per line: a newline (or CR, which systemd also ends a line on) would start a directive of
// its own. Tab is the one control character with a use there.
const CONTROL = /[^\P{Cc}\t]/u;

/** Why `value` cannot be written as one line of a unit or script, or undefined when it can. */
export function controlCharacterProblem(what: string, value: string): string | undefined {
  const found = CONTROL.exec(value);
  if (!found) return undefined;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `${what} must not contain control characters (only tab is allowed): U+${code} at position ${found.index}`;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** Semantic checks shared by create and patch; throws ValidationError naming the first problem. */
function checkSemantics(spec: NodeSpec): void {
  const { resources } = spec;
  if (resources.cpus !== undefined && !(resources.cpus > 0)) throw new ValidationError('INVALID_SPEC', 'resources.cpus must be greater than 0');
  if (resources.memoryMB !== undefined && !(resources.memoryMB > 0)) throw new ValidationError('INVALID_SPEC', 'resources.memoryMB must be greater than 0');
  for (const volume of spec.volumes) {
    const problem = checkVolumePath(volume.path);
    if (problem) throw new ValidationError('INVALID_SPEC', `volumes[${volume.name}].path ${JSON.stringify(volume.path)} ${problem}`);
  }
  const dupVolumes = duplicates(spec.volumes.map((v) => v.name));
  if (dupVolumes.length) throw new ValidationError('INVALID_SPEC', `duplicate volume name: ${dupVolumes.join(', ')}`);
  const dupPaths = duplicates(spec.volumes.map((v) => v.path));
  if (dupPaths.length) throw new ValidationError('INVALID_SPEC', `two volumes mount at the same path: ${dupPaths.join(', ')}`);
  const dupModules = duplicates(spec.modules.map((m) => m.name));
  if (dupModules.length) throw new ValidationError('INVALID_SPEC', `duplicate module name: ${dupModules.join(', ')}`);
  for (const [key, value] of Object.entries(spec.env)) {
    const problem = controlCharacterProblem(`env.${key}`, value);
    if (problem) throw new ValidationError('INVALID_SPEC', problem);
  }
  for (const module of spec.modules) {
    const problem = module.run === undefined ? undefined : controlCharacterProblem(`modules[${module.name}].run`, module.run);
    if (problem) throw new ValidationError('INVALID_SPEC', problem);
    if (!module.run && !module.packages) throw new ValidationError('INVALID_SPEC', `module ${module.name} needs "run" or "packages"`);
    if (module.packages && spec.template !== 'debian')
      throw new ValidationError('INVALID_SPEC', `module ${module.name}: packages need the debian template (this node uses ${spec.template})`);
  }
  if (spec.orchestrator) {
    const { kind } = spec.orchestrator;
    if (spec.template !== 'debian')
      throw new ValidationError('ORCHESTRATOR_NEEDS_DEBIAN', `orchestrator ${kind} runs on the debian template (this node uses ${spec.template})`);
    if (spec.profile === 'plain')
      throw new ValidationError('ORCHESTRATOR_NEEDS_NESTING', `orchestrator ${kind} runs containers itself: give the node the nesting or microk8s profile`);
    const taken = spec.modules.find((m) => m.name === 'station-docker' || m.name === 'station-snapd');
    if (taken) throw new ValidationError('INVALID_SPEC', `module name ${taken.name} is the orchestrator's own (its engine): choose another`);
  }
}

function normalise(input: NodeSpecInput): NodeSpec {
  const spec: NodeSpec = {
    name: input.name,
    template: input.template ?? 'busybox',
    profile: input.profile ?? 'plain',
    resources: { ...input.resources },
    volumes: (input.volumes ?? []).map((v) => ({ name: v.name, path: v.path, class: v.class ?? 'private', ...(v.sizeMB ? { sizeMB: v.sizeMB } : {}) })),
    modules: (input.modules ?? []).map((m) => ({
      name: m.name,
      ...(m.run !== undefined ? { run: m.run } : {}),
      ...(m.packages ? { packages: [...m.packages] } : {}),
    })),
    env: { ...input.env },
    autostart: input.autostart ?? true,
    labels: { ...input.labels },
  };
  if (input.network) spec.network = structuredClone(input.network);
  spec.disk = nodeDisk(input);
  if (input.replicas) spec.replicas = { failover: 'auto', maxLagSeconds: 120, ...structuredClone(input.replicas) };
  if (input.orchestrator) spec.orchestrator = { role: 'auto', ...input.orchestrator };
  return spec;
}

/** Validates a user's spec and fills defaults. Throws ValidationError (nothing is created). */
export function validateSpec(input: unknown): NodeSpec {
  if (!specCheck.Check(input)) throw schemaFailure('spec', specCheck.Errors(input));
  const spec = normalise(input);
  checkSemantics(spec);
  return spec;
}

/** Applies a PATCH to a stored spec; the result is validated like a new spec. */
export function applyPatch(current: NodeSpec, patch: unknown): NodeSpec {
  if (!patchCheck.Check(patch)) throw schemaFailure('patch', patchCheck.Errors(patch));
  const next: NodeSpec = structuredClone(current);
  if (patch.resources) next.resources = { ...patch.resources };
  if (patch.modules) next.modules = normalise({ name: current.name, modules: patch.modules }).modules;
  if (patch.env) next.env = { ...patch.env };
  if (patch.autostart !== undefined) next.autostart = patch.autostart;
  if (patch.labels) next.labels = { ...patch.labels };
  if (patch.network) next.network = structuredClone(patch.network);
  if (patch.disk) next.disk = nodeDisk({ disk: { ...next.disk, ...patch.disk } });
  if (patch.replicas === null) delete next.replicas;
  else if (patch.replicas) next.replicas = { failover: 'auto', maxLagSeconds: 120, ...structuredClone(patch.replicas) };
  checkSemantics(next);
  return next;
}
