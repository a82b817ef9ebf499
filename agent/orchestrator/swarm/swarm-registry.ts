// The swarm's own image registry: no registry outside is reachable from many homes (nor from these
// machines), so every swarm node runs Debian's docker-registry and every member's dockerd trusts the
// cluster's name, CLUSTER.OWNER.<domain>:5000, which the cluster's Dynamic Alias points at one member.
// An image built or loaded on one member is pushed there and pulled by the others over the mesh.
// Debian's registry config asks for htpasswd logins nobody set up; ours has none: the node's policy
// opens 5000/tcp to the owner's stations only. Both are set before the node joins a swarm, since
// restarting a member's dockerd drops it from the swarm for a moment.
import { InNode, type NodeExec } from '../in-node.ts';

export const REGISTRY_PORT = 5000;
const REGISTRY_CONFIG = '/etc/docker/registry/config.yml';
const DAEMON_JSON = '/etc/docker/daemon.json';

/** The registry's config (pure): files in the node, deletes allowed, no logins. */
export const REGISTRY_CONFIG_TEXT = [
  '# written by the station agent: the cluster registry (no logins: the node policy admits only the owner)',
  'version: 0.1',
  'log:',
  '  fields:',
  '    service: registry',
  'storage:',
  '  filesystem:',
  '    rootdirectory: /var/lib/docker-registry',
  '  delete:',
  '    enabled: true',
  'http:',
  `  addr: :${REGISTRY_PORT}`,
  '  headers:',
  '    X-Content-Type-Options: [nosniff]',
  '',
].join('\n');

/**
 * dockerd's daemon.json with `registry` among its insecure registries (pure): other settings a person
 * made are kept; null when it is there already. The registry speaks plain HTTP: the mesh encrypts.
 */
export function daemonJsonWith(current: string, registry: string): string | null {
  let config: Record<string, unknown> = {};
  if (current.trim()) {
    try {
      config = JSON.parse(current) as Record<string, unknown>;
    } catch {
      throw new Error(`${DAEMON_JSON} in the node is not JSON: fix or remove it`);
    }
  }
  const insecure = Array.isArray(config['insecure-registries']) ? (config['insecure-registries'] as string[]) : [];
  if (insecure.includes(registry)) return null;
  return `${JSON.stringify({ ...config, 'insecure-registries': [...insecure, registry] }, null, 2)}\n`;
}

/** Sets the registry up in the node; true when dockerd was restarted (it answers again a moment later). */
export async function useClusterRegistry(exec: NodeExec, node: string, registry: string): Promise<boolean> {
  const inNode = new InNode(exec, node);
  if ((await inNode.run(['cat', REGISTRY_CONFIG])).stdout !== REGISTRY_CONFIG_TEXT) {
    // the registry runs as its own user, not root: its config must be readable
    await inNode.writeFile(REGISTRY_CONFIG, REGISTRY_CONFIG_TEXT, { readable: true });
    await inNode.must(['systemctl', 'restart', 'docker-registry'], 'restarting docker-registry');
  }
  const daemon = daemonJsonWith((await inNode.run(['cat', DAEMON_JSON])).stdout, registry);
  if (daemon === null) return false;
  await inNode.writeFile(DAEMON_JSON, daemon, { readable: true });
  await inNode.must(['systemctl', 'restart', 'docker'], 'restarting dockerd');
  return true;
}
