// The contract between the node service (spec, planner, reconcile, API) and the engine that makes
// nodes real (LXC). The service decides *what*; a driver does it and reports what it sees.
// Drivers report capability instead of crashing when their engine is missing.
import type { Readable } from 'node:stream';

export type NodeState = 'running' | 'stopped' | 'starting' | 'stopping' | 'frozen' | 'unknown';
export type TemplateName = 'busybox' | 'debian';
export type ProfileName = 'plain' | 'nesting' | 'microk8s';

/** A volume as the driver sees it: a host directory bind-mounted into the node. */
export interface VolumeMount {
  name: string;
  /** host directory (made by the service, kept across recreate) */
  source: string;
  /** absolute path inside the node */
  path: string;
  readOnly?: boolean;
}

/** A Compute Module: a supervised command (restarted when it dies) and/or packages to install first. */
export interface ModuleSpec {
  name: string;
  run?: string;
  packages?: string[];
}

/** Everything the driver needs to make one node; the service has already resolved addresses and volumes. */
export interface NodeBuild {
  name: string;
  hostname: string;
  template: TemplateName;
  profile: ProfileName;
  /** CPU limit in cores (fractions allowed); undefined = no limit */
  cpus?: number;
  memoryMB?: number;
  /** most processes and threads at once (the pids cgroup) */
  processes: number;
  network: {
    bridge: string;
    /** the node's address with prefix, e.g. 198.18.5.10/24 */
    address: string;
    gateway: string;
    dns: string[];
    /** eth0's MTU when it must be smaller than the bridge's (a Kubernetes node: its overlay rides the mesh) */
    mtu?: number;
  };
  volumes: VolumeMount[];
  env: Record<string, string>;
  modules: ModuleSpec[];
  autostart: boolean;
}

export interface ObservedNode {
  name: string;
  state: NodeState;
  /** init pid on the host when running */
  pid: number | null;
  /** a create that never finished (agent killed mid-way): the service destroys and re-makes it */
  partial: boolean;
}

export interface NodeStats {
  cpuSeconds: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  processes: number;
}

export interface NodeExecOptions {
  timeoutMs?: number;
  input?: string;
  /** binary input instead of `input` (an image's tar, say) */
  stdinStream?: Readable;
  /** strings blanked out of the result and of any error (a join token) */
  secrets?: readonly string[];
}

export interface NodeExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface NodeNetworkSetup {
  bridge: string;
  /** gateway address on the bridge with prefix, e.g. 198.18.5.1/24 */
  gatewayCidr: string;
  /** the node subnet, e.g. 198.18.5.0/24 (NAT source) */
  subnet: string;
  /** interfaces where nodes keep their own source address (the mesh: peers route node subnets) */
  routedInterfaces?: string[];
}

export interface NodeDriver {
  capability(): Promise<{ available: boolean; reason: string }>;
  /** Host-side prerequisites, idempotent: lxcpath, the node bridge with its gateway address, egress NAT. */
  prepare(network: NodeNetworkSetup): Promise<void>;
  /** Builds a template if it is not cached yet (debian: minutes the first time), reporting progress. */
  ensureTemplate(template: TemplateName, progress?: (message: string) => void): Promise<void>;
  list(): Promise<ObservedNode[]>;
  inspect(name: string): Promise<ObservedNode | null>;
  /** Makes the node (clone template, write config, install modules) without starting it. All or nothing. */
  create(build: NodeBuild, progress?: (message: string) => void): Promise<void>;
  /** Returns once the node is running. */
  start(name: string): Promise<void>;
  /** Graceful stop, forced after timeoutSeconds. */
  stop(name: string, options: { timeoutSeconds: number }): Promise<void>;
  /** Removes the container and everything it had on the host (veth, mounts, cgroups), never volume sources. */
  destroy(name: string): Promise<void>;
  exec(name: string, command: string[], options?: NodeExecOptions): Promise<NodeExecResult>;
  stats(name: string): Promise<NodeStats | null>;
  /** The node's recent log lines (module output, init). */
  logs(name: string, options: { lines: number }): Promise<string>;
}
