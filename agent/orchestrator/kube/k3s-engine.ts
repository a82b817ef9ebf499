// K3s inside a node, from its air-gap files (docs.k3s.io, "Air-Gap Install"): the binary goes to
// /usr/local/bin/k3s and the images tarball to /var/lib/rancher/k3s/agent/images/, where K3s imports it
// at start. Everything else is K3s's own config file (/etc/rancher/k3s/config.yaml, keys as its flags)
// and a systemd unit: the first server starts with cluster-init (embedded etcd), later servers and
// agents join with `server` and the cluster's token. The token lives in that file (mode 0600), never
// on a command line.
import { BundleError } from '../bundles/bundle-check.ts';
import type { JoinOffer } from '../swarm/swarm-member.ts';
import { type BundleSource, InNodeEngine, type KubeEngine, type KubeNodeFacts } from './kube-engine.ts';
import { parseK3sVersion, parseLeaseHolder, parseNodeList } from './kube-parse.ts';

export const K3S_API_PORT = 6443;
const BINARY = '/usr/local/bin/k3s';
const CONFIG = '/etc/rancher/k3s/config.yaml';
const IMAGES = '/var/lib/rancher/k3s/agent/images';
const TOKEN = '/var/lib/rancher/k3s/server/token';
const UNIT = '/etc/systemd/system/k3s.service';

/** A YAML scalar K3s reads back as the same string. */
const quoted = (s: string): string => JSON.stringify(s);

/**
 * K3s's config file for this node (pure). kube-proxy gets conntrack-max-per-core 0: a node may not
 * set the host's conntrack table size, and kube-proxy would fail trying. Flannel uses the node's eth0,
 * whose MTU fits inside the mesh's.
 */
export function k3sConfig(facts: KubeNodeFacts, join: { server: string; token: string; role: 'manager' | 'worker' } | 'first'): string {
  const lines = [
    `node-name: ${quoted(facts.nodeName)}`,
    `node-ip: ${quoted(facts.address)}`,
    'flannel-iface: "eth0"',
    'kube-proxy-arg:',
    '  - "conntrack-max-per-core=0"',
  ];
  const server = join === 'first' || join.role === 'manager';
  if (server) {
    lines.push(`advertise-address: ${quoted(facts.address)}`, 'tls-san:', ...[facts.address, ...facts.apiNames].map((n) => `  - ${quoted(n)}`));
    lines.push('write-kubeconfig-mode: "0600"');
  }
  if (join === 'first') lines.push('cluster-init: true');
  else lines.push(`server: ${quoted(join.server)}`, `token: ${quoted(join.token)}`);
  return `# written by the station agent (orchestrator); K3s reads it at start\n${lines.join('\n')}\n`;
}

/** The systemd unit that runs K3s as a server or an agent (pure). */
export function k3sUnit(mode: 'server' | 'agent'): string {
  return [
    '[Unit]',
    `Description=K3s ${mode} (started by the station agent)`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${BINARY} ${mode}`,
    'KillMode=process',
    'Delegate=yes',
    'LimitNOFILE=1048576',
    'LimitNPROC=infinity',
    'LimitCORE=infinity',
    'TasksMax=infinity',
    'Restart=always',
    'RestartSec=5s',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export class K3sEngine extends InNodeEngine implements KubeEngine {
  readonly kind = 'k3s' as const;

  installedVersion(): Promise<string | null> {
    return this.versionFrom([BINARY, '--version'], parseK3sVersion);
  }

  /** The images first, the binary last: a node with the binary has everything. */
  async install(files: BundleSource[]): Promise<void> {
    const images = files.find((f) => f.name.startsWith('k3s-airgap-images-'));
    const binary = files.find((f) => /^k3s(-arm64|-armhf)?$/.test(f.name));
    if (!images || !binary) throw new BundleError('the K3s bundle lacks its binary or its images');
    await this.node.copyIn(images, `${IMAGES}/${images.name}`, '0644');
    await this.node.copyIn(binary, BINARY, '0755');
  }

  found(facts: KubeNodeFacts): Promise<void> {
    return this.start('server', k3sConfig(facts, 'first'), []).then(() => this.noteJoined('manager'));
  }

  join(offer: JoinOffer, facts: KubeNodeFacts): Promise<void> {
    const server = offer.managers[0];
    if (!server) throw new Error('the offer names no server to join through');
    const config = k3sConfig(facts, { server, token: offer.token, role: offer.role });
    return this.start(offer.role === 'manager' ? 'server' : 'agent', config, [offer.token]).then(() => this.noteJoined(offer.role));
  }

  private async start(mode: 'server' | 'agent', config: string, secrets: string[]): Promise<void> {
    await this.node.writeFile(CONFIG, config, { secrets });
    await this.node.writeFile(UNIT, k3sUnit(mode));
    await this.node.must(['systemctl', 'daemon-reload'], 'systemctl daemon-reload');
    // --no-block: a joining server waits for etcd before it tells systemd it runs
    await this.node.must(['systemctl', 'enable', '--now', '--no-block', 'k3s.service'], 'starting k3s');
  }

  async ready(): Promise<boolean> {
    const active = await this.node.run(['systemctl', 'is-active', 'k3s.service'], { timeoutMs: 15_000 });
    if (active.stdout.trim() !== 'active') return false;
    if ((await this.joinedAs()) === 'worker') return true; // an agent: no API of its own
    return (await this.node.run([BINARY, 'kubectl', 'get', '--raw', '/readyz'], { timeoutMs: 20_000 })).exitCode === 0;
  }

  async offer(role: 'manager' | 'worker', facts: KubeNodeFacts): Promise<JoinOffer> {
    const token = (await this.node.must(['cat', TOKEN], 'reading the K3s token', { timeoutMs: 15_000 })).trim();
    if (!token) throw new Error('the K3s token file is empty');
    return { token, role, managers: [`https://${facts.address}:${K3S_API_PORT}`] };
  }

  async members() {
    return parseNodeList(await this.node.must([BINARY, 'kubectl', 'get', 'nodes', '-o', 'json'], 'kubectl get nodes', { timeoutMs: 30_000 }));
  }

  async leader(): Promise<string | null> {
    const r = await this.node.run([BINARY, 'kubectl', 'get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'json'], { timeoutMs: 30_000 });
    return r.exitCode === 0 ? parseLeaseHolder(r.stdout) : null;
  }
}
