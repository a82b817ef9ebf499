// What the orchestrator room asks of a Kubernetes engine inside a node (K3s, MicroK8s): the same
// steps for both, each engine doing them its own way (k3s-engine.ts, microk8s-engine.ts). Join tokens
// pass as secrets: blanked out of every result and error, written to files only with mode 0600.
import { InNode, type NodeExec, type StreamSource } from '../in-node.ts';
import type { JoinOffer } from '../swarm/swarm-member.ts';
import type { KubeMember } from './kube-parse.ts';

/** What the engine is told about the node it runs in. */
export interface KubeNodeFacts {
  /** its name in the cluster: NODE.STATION, since nodes on several stations may share a name */
  nodeName: string;
  /** the address other stations' nodes reach it at (its own: node subnets are routed over the mesh) */
  address: string;
  /** names the cluster's API answers to besides the address (the cluster's Dynamic Alias) */
  apiNames: string[];
}

/** A file of the imported bundle, to be streamed into the node. */
export type BundleSource = StreamSource;

/** where the agent notes in the node how it entered its cluster (a K3s server or agent, a MicroK8s node or worker) */
const JOINED_AS = '/etc/station/orchestrator-joined-as';

export interface KubeEngine {
  readonly kind: 'k3s' | 'microk8s';
  /** the engine's version when it is installed in the node, else null */
  installedVersion(): Promise<string | null>;
  /** copies the bundle's files into the node and installs them (nothing starts yet) */
  install(files: BundleSource[]): Promise<void>;
  /** how the node was started or joined before (null: never; it is not configured for a cluster) */
  joinedAs(): Promise<'manager' | 'worker' | null>;
  /** starts a new cluster with this node as its first control-plane node */
  found(facts: KubeNodeFacts): Promise<void>;
  /** joins the cluster an offer leads into, with the offer's role */
  join(offer: JoinOffer, facts: KubeNodeFacts): Promise<void>;
  /** whether the engine runs and, on a control-plane node, its API answers */
  ready(): Promise<boolean>;
  /** a way in for another node (a control-plane node only): its token and where to join */
  offer(role: 'manager' | 'worker', facts: KubeNodeFacts): Promise<JoinOffer>;
  /** the cluster's nodes (a control-plane node only) */
  members(): Promise<KubeMember[]>;
  /** the node leading the controllers (null: none) */
  leader(): Promise<string | null>;
}

/** What every engine shares: its node's command line, and how the node entered its cluster. */
export abstract class InNodeEngine {
  protected readonly node: InNode;

  constructor(exec: NodeExec, node: string) {
    this.node = new InNode(exec, node);
  }

  /** How this node entered its cluster, as the agent wrote down when it did (null: not yet). */
  async joinedAs(): Promise<'manager' | 'worker' | null> {
    const r = await this.node.run(['cat', JOINED_AS], { timeoutMs: 15_000 });
    const said = r.stdout.trim();
    return r.exitCode === 0 && (said === 'manager' || said === 'worker') ? said : null;
  }

  /** Written last when the node starts or joins a cluster: from then on it is configured. */
  protected async noteJoined(role: 'manager' | 'worker'): Promise<void> {
    await this.node.writeFile(JOINED_AS, `${role}\n`);
  }

  /** The version `command` prints in the node, read by `parse`; null while the engine is not installed. */
  protected async versionFrom(command: string[], parse: (text: string) => string | null): Promise<string | null> {
    const r = await this.node.run(command, { timeoutMs: 15_000 });
    return r.exitCode === 0 ? parse(r.stdout) : null;
  }
}
