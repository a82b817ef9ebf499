// MicroK8s inside a node, from snaps downloaded on a connected machine (`snap download microk8s` and
// `snap download core20`, each with its assertion): snapd (Debian's, installed with the node) acks
// each assertion and installs each snap offline, refreshes are held, kube-proxy gets
// conntrack-max-per-core 0. A cluster is MicroK8s's own: the first node is a cluster by itself, and
// `microk8s add-node --token T` on a control-plane node lets another in with `microk8s join`.
import { randomBytes } from 'node:crypto';
import { BundleError } from '../bundles/bundle-check.ts';
import type { JoinOffer } from '../swarm/swarm-member.ts';
import { type BundleSource, InNodeEngine, type KubeEngine, type KubeNodeFacts } from './kube-engine.ts';
import { parseAddNode, parseLeaseHolder, parseMicrok8sStatus, parseMicrok8sVersion, parseNodeList } from './kube-parse.ts';

export const MICROK8S_CLUSTER_PORT = 25000;
const MICROK8S = '/snap/bin/microk8s';
const BUNDLE_DIR = '/var/lib/station/bundle';
const KUBE_PROXY_ARGS = '/var/snap/microk8s/current/args/kube-proxy';
const KUBELITE = 'snap.microk8s.daemon-kubelite.service';
/** how long a join token minted for another node stays good */
const TOKEN_TTL_SECONDS = 600;
/** snapd before 2.58 (Debian 12 has 2.57) holds refreshes through a system-wide date, at most 60 days ahead */
const HOLD_DAYS = 59;

/** The date refreshes are held to with snapd before 2.58 (pure). */
export const refreshHoldUntil = (now: Date): string => new Date(now.getTime() + HOLD_DAYS * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The snap install steps for the bundle's files, in order (pure): the base first, each after its assertion. */
export function snapInstallSteps(files: string[]): string[][] {
  const pick = (re: RegExp) => files.find((f) => re.test(f));
  const core = pick(/^core20_\d+\.snap$/);
  const microk8s = pick(/^microk8s_\d+\.snap$/);
  if (!core || !microk8s) throw new BundleError('the MicroK8s bundle lacks its microk8s or core20 snap');
  const at = (f: string) => `${BUNDLE_DIR}/${f}`;
  const assertion = (snap: string) => at(snap.replace(/\.snap$/, '.assert'));
  return [
    ['snap', 'wait', 'system', 'seed.loaded'],
    ['snap', 'ack', assertion(core)],
    ['snap', 'install', at(core)],
    ['snap', 'ack', assertion(microk8s)],
    ['snap', 'install', at(microk8s), '--classic'],
  ];
}

export class Microk8sEngine extends InNodeEngine implements KubeEngine {
  readonly kind = 'microk8s' as const;

  installedVersion(): Promise<string | null> {
    return this.versionFrom([MICROK8S, 'version'], parseMicrok8sVersion);
  }

  async install(files: BundleSource[]): Promise<void> {
    const steps = snapInstallSteps(files.map((f) => f.name));
    for (const f of files) await this.node.copyIn(f, `${BUNDLE_DIR}/${f.name}`, '0644');
    for (const step of steps) await this.node.must(step, step.slice(0, 2).join(' '), { timeoutMs: 600_000 });
    const held = await this.node.run(['snap', 'refresh', '--hold', 'microk8s'], { timeoutMs: 60_000 });
    if (held.exitCode !== 0) await this.node.must(['snap', 'set', 'system', `refresh.hold=${refreshHoldUntil(new Date())}`], 'holding snap refreshes');
    await this.node.must([MICROK8S, 'status', '--wait-ready', '--timeout', '300'], 'waiting for MicroK8s', { timeoutMs: 330_000 });
    await this.keepConntrackAlone();
  }

  /** kube-proxy must not size the host's conntrack table (a node may not): conntrack-max-per-core 0, then a restart. */
  private async keepConntrackAlone(): Promise<void> {
    const flag = '--conntrack-max-per-core=0';
    const script = `grep -qx -- '${flag}' ${KUBE_PROXY_ARGS} || { echo '${flag}' >> ${KUBE_PROXY_ARGS} && snap restart microk8s.daemon-kubelite; }`;
    await this.node.must(['sh', '-c', script], 'setting kube-proxy conntrack-max-per-core', { timeoutMs: 120_000 });
  }

  /** MicroK8s is a cluster of one once installed: the founder only notes it. */
  async found(_facts: KubeNodeFacts): Promise<void> {
    await this.noteJoined('manager');
  }

  async join(offer: JoinOffer, _facts: KubeNodeFacts): Promise<void> {
    const errors: string[] = [];
    for (const target of offer.managers) {
      const command = [MICROK8S, 'join', `${target}/${offer.token}`, ...(offer.role === 'worker' ? ['--worker'] : [])];
      const r = await this.node.run(command, { secrets: [offer.token], timeoutMs: 300_000 });
      if (r.exitCode === 0) return this.noteJoined(offer.role);
      errors.push(`${target}: ${(r.stderr || r.stdout).trim().split('\n').at(-1) ?? `exit ${r.exitCode}`}`);
    }
    throw new Error(`microk8s join failed through every control-plane node: ${errors.join('; ')}`);
  }

  async ready(): Promise<boolean> {
    const active = await this.node.run(['systemctl', 'is-active', KUBELITE], { timeoutMs: 15_000 });
    if (active.stdout.trim() !== 'active') return false;
    if ((await this.joinedAs()) === 'worker') return true; // a worker runs no API of its own
    return (await this.node.run([MICROK8S, 'kubectl', 'get', '--raw', '/readyz'], { timeoutMs: 20_000 })).exitCode === 0;
  }

  /**
   * A token of our own making (32 characters, as MicroK8s wants), good for ten minutes; the offer is
   * the join target add-node prints for this node's address (ADDRESS:25000, the token, the CA's hash).
   */
  async offer(role: 'manager' | 'worker', facts: KubeNodeFacts): Promise<JoinOffer> {
    const token = randomBytes(16).toString('hex');
    const out = await this.node.must([MICROK8S, 'add-node', '--token', token, '--token-ttl', String(TOKEN_TTL_SECONDS)], 'microk8s add-node', {
      secrets: [token],
    });
    const targets = parseAddNode(out);
    const own = targets.filter((t) => t.address === `${facts.address}:${MICROK8S_CLUSTER_PORT}`);
    if (!own.length && !targets.length) throw new Error('microk8s add-node printed no join command');
    // the token is carried on its own, so the targets are ADDRESS:PORT with the hash after the token
    return { token: `${token}/${(own[0] ?? targets[0]!).hash}`, role, managers: (own.length ? own : targets).map((t) => t.address) };
  }

  /** MicroK8s labels no node with a role: its managers are the datastore's voters, as `microk8s status` lists them. */
  async members() {
    const nodes = parseNodeList(await this.node.must([MICROK8S, 'kubectl', 'get', 'nodes', '-o', 'json'], 'kubectl get nodes', { timeoutMs: 30_000 }));
    const status = parseMicrok8sStatus(await this.node.must([MICROK8S, 'status'], 'microk8s status', { timeoutMs: 60_000 }));
    // a node that never clustered lists itself as 127.0.0.1
    const alone = nodes.length === 1 && status.voters.includes('127.0.0.1');
    return nodes.map((n) => ({ ...n, controlPlane: alone || (n.internalIp !== null && status.voters.includes(n.internalIp)) }));
  }

  async leader(): Promise<string | null> {
    const r = await this.node.run([MICROK8S, 'kubectl', 'get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'json'], { timeoutMs: 30_000 });
    return r.exitCode === 0 ? parseLeaseHolder(r.stdout) : null;
  }
}
