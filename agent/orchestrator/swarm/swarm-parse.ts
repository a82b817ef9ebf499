// Docker's answers about its swarm, as Debian's docker.io 20.10 prints them inside a node (pure;
// tested on recorded output in test/fixtures/docker/): `docker info --format '{{json .Swarm}}'`,
// `docker node ls --format '{{json .}}'`, `docker version --format '{{json .}}'`, a join token, and
// the daemon's errors that mean something to the agent.

/** Where this node's engine stands in a swarm (Docker's LocalNodeState). */
export type SwarmState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export interface SwarmInfo {
  state: SwarmState;
  nodeId: string | null;
  /** the address it advertises to the others */
  nodeAddress: string | null;
  /** a manager that holds (a copy of) the cluster's state */
  manager: boolean;
  clusterId: string | null;
  /** the managers it knows of, as host:port */
  managers: string[];
  error: string | null;
}

export interface SwarmMember {
  id: string;
  hostname: string;
  /** Ready, Down, Unknown, Disconnected */
  status: string;
  /** Active, Pause, Drain */
  availability: string;
  /** Leader, Reachable, Unreachable; null for a worker */
  managerStatus: string | null;
  engineVersion: string;
  self: boolean;
}

const STATES: readonly SwarmState[] = ['inactive', 'pending', 'active', 'error', 'locked'];

function json(text: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* said below */
  }
  throw new Error(`${what}: not a JSON object: ${text.slice(0, 120)}`);
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** `docker info --format '{{json .Swarm}}'` */
export function parseSwarmInfo(stdout: string): SwarmInfo {
  const s = json(stdout.trim(), 'docker info .Swarm');
  const state = str(s.LocalNodeState) as SwarmState;
  if (!STATES.includes(state)) throw new Error(`docker info .Swarm: unknown LocalNodeState ${JSON.stringify(s.LocalNodeState)}`);
  const cluster = s.Cluster as { ID?: unknown } | undefined;
  const remote = Array.isArray(s.RemoteManagers) ? (s.RemoteManagers as { Addr?: unknown }[]) : [];
  return {
    state,
    nodeId: str(s.NodeID) || null,
    nodeAddress: str(s.NodeAddr) || null,
    manager: s.ControlAvailable === true,
    clusterId: str(cluster?.ID) || null,
    managers: remote.map((m) => str(m.Addr)).filter(Boolean),
    error: str(s.Error) || null,
  };
}

/** `docker node ls --format '{{json .}}'`: one member per line. */
export function parseNodeList(stdout: string): SwarmMember[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const n = json(line, 'docker node ls');
      if (!str(n.ID) || !str(n.Hostname)) throw new Error(`docker node ls: a line without ID or Hostname: ${line.slice(0, 120)}`);
      return {
        id: str(n.ID),
        hostname: str(n.Hostname),
        status: str(n.Status),
        availability: str(n.Availability),
        managerStatus: str(n.ManagerStatus) || null,
        engineVersion: str(n.EngineVersion),
        self: n.Self === true,
      };
    });
}

/** `docker version --format '{{json .}}'`: the engine's (server's) version, or null while the daemon does not answer. */
export function parseEngineVersion(stdout: string): string | null {
  const v = json(stdout.trim(), 'docker version');
  const server = v.Server as { Version?: unknown; Components?: { Name?: unknown; Version?: unknown }[] } | null | undefined;
  if (!server) return null;
  return str(server.Components?.find((c) => c.Name === 'Engine')?.Version) || str(server.Version) || null;
}

const TOKEN = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

/** `docker swarm join-token -q manager|worker`: the token, checked for its shape (never logged). */
export function parseJoinToken(stdout: string): string {
  const token = stdout.trim();
  if (!TOKEN.test(token)) throw new Error('docker swarm join-token: the answer is not a join token');
  return token;
}

export const isJoinToken = (value: string): boolean => TOKEN.test(value);

/** What a failed swarm command's stderr means for the agent. */
export type SwarmFailure = 'not-manager' | 'not-in-swarm' | 'join-timeout' | 'bad-token' | 'other';

export function classifySwarmError(stderr: string): SwarmFailure {
  if (/This node is not a swarm manager\. Worker nodes/.test(stderr)) return 'not-manager';
  if (/This node is not a swarm manager\. Use "docker swarm init"/.test(stderr)) return 'not-in-swarm';
  if (/Timeout was reached before node joined/.test(stderr)) return 'join-timeout';
  if (/invalid join token|A valid join token is necessary/.test(stderr)) return 'bad-token';
  return 'other';
}
