// Docker Swarm inside one node, through the docker CLI run in the node (lxc-attach): what the
// orchestrator room asks of it. Join tokens pass as secrets: blanked out of every result and error.
// This kernel has no IPVS, so the cluster's overlay network is made for DNS round-robin services and
// host-mode ports, with an MTU that fits inside Nebula's (docs/orchestrators.md).
import type { Readable } from 'node:stream';
import type { NodeExecOptions, NodeExecResult } from '../../nodes/driver.ts';
import { classifySwarmError, parseEngineVersion, parseJoinToken, parseNodeList, parseSwarmInfo, type SwarmInfo, type SwarmMember } from './swarm-parse.ts';
import { type NodeExec, NodeCommandError } from '../in-node.ts';
export type { NodeExec } from '../in-node.ts';

export const SWARM_PORT = 2377;
/** the overlay network every member can attach to (`docker service create --network station`) */
export const STATION_OVERLAY = 'station';
/** the image every member holds without a registry: the host's busybox-static */
export const BUSYBOX_IMAGE = 'station/busybox';

export class SwarmCommandError extends NodeCommandError {
  readonly kind: ReturnType<typeof classifySwarmError>;
  constructor(what: string, result: NodeExecResult) {
    super(what, result);
    this.kind = classifySwarmError(result.stderr);
  }
}

export class SwarmEngine {
  /** runs a command in the node (`docker ...`) */
  private readonly inNode: (command: string[], options?: NodeExecOptions) => Promise<NodeExecResult>;

  constructor(exec: NodeExec, node: string) {
    this.inNode = (command, options) => exec(node, command, options);
  }

  private async docker(args: string[], what: string, options: NodeExecOptions = {}): Promise<string> {
    const result = await this.inNode(['docker', ...args], { timeoutMs: 60_000, ...options });
    if (result.exitCode !== 0) throw new SwarmCommandError(what, result);
    return result.stdout;
  }

  /** The engine's version, or null while dockerd does not answer (installing, starting). */
  async version(): Promise<string | null> {
    const result = await this.inNode(['docker', 'version', '--format', '{{json .}}'], { timeoutMs: 15_000 });
    if (!result.stdout.trim().startsWith('{')) return null;
    return parseEngineVersion(result.stdout);
  }

  info(): Promise<SwarmInfo> {
    return this.docker(['info', '--format', '{{json .Swarm}}'], 'docker info').then(parseSwarmInfo);
  }

  async init(address: string): Promise<void> {
    await this.docker(['swarm', 'init', '--advertise-addr', address, '--listen-addr', `${address}:${SWARM_PORT}`], 'docker swarm init');
  }

  /** Joins through `manager` (host:port); a join that outlasts its timeout goes on in the background (pending). */
  async join(token: string, address: string, manager: string): Promise<void> {
    const args = ['swarm', 'join', '--token', token, '--advertise-addr', address, '--listen-addr', `${address}:${SWARM_PORT}`, manager];
    await this.docker(args, 'docker swarm join', { secrets: [token], timeoutMs: 90_000 });
  }

  joinToken(role: 'manager' | 'worker'): Promise<string> {
    return this.docker(['swarm', 'join-token', '-q', role], 'docker swarm join-token').then(parseJoinToken);
  }

  members(): Promise<SwarmMember[]> {
    return this.docker(['node', 'ls', '--format', '{{json .}}'], 'docker node ls').then(parseNodeList);
  }

  /** Makes the cluster's overlay network unless it exists (a manager's task). */
  async ensureOverlay(mtu: number): Promise<void> {
    const names = (await this.docker(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}}'], 'docker network ls')).split('\n');
    if (names.includes(STATION_OVERLAY)) return;
    const args = ['network', 'create', '--driver', 'overlay', '--attachable', '--opt', `com.docker.network.driver.mtu=${mtu}`, STATION_OVERLAY];
    await this.docker(args, 'docker network create');
  }

  /** Whether the image is here already. */
  async hasImage(ref: string): Promise<boolean> {
    return (await this.inNode(['docker', 'image', 'inspect', '--format', '{{.Id}}', ref], { timeoutMs: 30_000 })).exitCode === 0;
  }

  /** Imports a root filesystem tar as an image (`docker import`), its default command `sh`. */
  async importImage(ref: string, tar: Readable): Promise<void> {
    await this.docker(['import', '--change', 'CMD ["sh"]', '-', ref], 'docker import', { stdinStream: tar, timeoutMs: 120_000 });
  }
}
