// The Inactive side: the replicated nodes of the owner's other stations that this station holds
// copies of. Per node, the spec the Active sent and who sent it (<stateDir>/replicas/inactive.json),
// and per volume the received read-only snapshots (btrfs receive, in this station's volume pool,
// under the node's name). Every spec and stream carries the sender's fencing token: a token older
// than one seen here is refused before anything changes (stream/fencing-tokens.ts).
import { Transform } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError, UnavailableError } from '../../errors.ts';
import { SerialQueue } from '../../lib/serial-queue.ts';
import type { NodeSpec } from '../../nodes/spec.ts';
import type { VolumeDriver } from '../../storage/driver.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import { FencingTokens } from '../stream/fencing-tokens.ts';
import { fetchStream } from '../stream/http-target.ts';
import { ReplicaReceiver } from '../stream/replica-stream.ts';
import { setsOldestFirst } from '../stream/send-plan.ts';

type Station = { name: string; address: string; apiPort: number };

/** received snapshot sets kept per volume */
const KEEP_RECEIVED = 3;

export interface InactiveCopy {
  node: string;
  /** the station whose Active copy sends here */
  active: string;
  owner: string;
  /** the highest fencing token its sends carried */
  token: number;
  spec: NodeSpec;
  /** per volume: the newest snapshot received and when */
  volumes: Record<string, { snapshot: string; receivedAt: string }>;
  updatedAt: string;
}

export interface InactiveDeps {
  stateDir: string;
  /** the volume driver (null while the nodes are off) */
  driver(): VolumeDriver | null;
  /** a node of this station's own by that name (then no copy of another's may be held under it) */
  localNode(name: string): boolean;
  /** the owner of this station's mesh */
  owner(): string;
}

export class InactiveCopies {
  private readonly deps: InactiveDeps;
  private readonly file: string;
  private readonly tokens: FencingTokens;
  private readonly queue = new SerialQueue();
  private copies: Map<string, InactiveCopy> | null = null;

  constructor(deps: InactiveDeps) {
    this.deps = deps;
    this.file = join(deps.stateDir, 'replicas', 'inactive.json');
    this.tokens = new FencingTokens(deps.stateDir);
  }

  async list(): Promise<InactiveCopy[]> {
    return [...(await this.load()).values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  async get(node: string): Promise<InactiveCopy | null> {
    return (await this.load()).get(node) ?? null;
  }

  /** The Active (`from`, of `owner`) sends the node's spec with its token. */
  async acceptSpec(from: { name: string; owner: string }, node: string, token: number, spec: NodeSpec): Promise<InactiveCopy> {
    if (spec.name !== node) throw new ConflictError('REPLICA_SPEC_MISMATCH', `the spec is of ${spec.name}, not ${node}`);
    if (this.deps.localNode(node)) throw new ConflictError('REPLICA_NAME_TAKEN', `this station runs a node of its own named ${node}`);
    await this.tokens.admit(node, token);
    return this.queue.run(async () => {
      const copies = await this.load();
      const now = new Date().toISOString();
      const copy = copies.get(node) ?? { node, active: from.name, owner: from.owner, token, spec, volumes: {}, updatedAt: now };
      Object.assign(copy, { active: from.name, owner: from.owner, token: Math.max(copy.token, token), spec, updatedAt: now });
      copies.set(node, copy);
      await this.save();
      return copy;
    });
  }

  /** The snapshots of one volume of the copy held here (to plan an increment). */
  async snapshots(node: string, volume: string): Promise<string[]> {
    return this.receiver().snapshots({ node, volume });
  }

  /** Fetches one volume's snapshot from the Active (`from`) that asked for it, into btrfs receive. */
  async pull(
    from: Station,
    node: string,
    volume: string,
    request: { token: number; snapshot: string; parent: string | null },
  ): Promise<{ snapshot: string; bytes: number }> {
    const copy = await this.get(node);
    if (!copy) throw new NotFoundError('REPLICA_NOT_FOUND', `no copy of ${node} here: its spec comes first`);
    if (!copy.spec.volumes.some((v) => v.name === volume)) throw new NotFoundError('VOLUME_NOT_FOUND', `${node} has no volume ${volume}`);
    if (copy.active !== from.name) throw new ConflictError('REPLICA_NOT_ACTIVE', `${from.name} does not run the Active copy of ${node} (${copy.active} does)`);
    const receiver = this.receiver();
    const ref = { node, volume };
    if (request.parent && !(await receiver.snapshots(ref)).includes(request.parent))
      throw new NotFoundError('SNAPSHOT_PARENT_MISSING', `this station lacks ${request.parent} of ${node}/${volume}: send it whole`);
    // the token first: a stale one is refused before anything is fetched
    await this.tokens.admit(node, request.token);
    const stream = await fetchStream(from, ref, request.snapshot, request.parent, request.token);
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    stream.on('error', (error) => counter.destroy(error));
    stream.pipe(counter);
    let received: { snapshot: string };
    try {
      received = await receiver.receive(ref, request.token, counter);
    } catch (error) {
      stream.destroy(); // the Active stops sending
      throw error;
    }
    await this.pruneReceived(ref);
    await this.queue.run(async () => {
      const held = (await this.load()).get(node);
      if (!held) return;
      const receivedAt = new Date().toISOString();
      held.volumes[volume] = { snapshot: received.snapshot, receivedAt };
      held.updatedAt = receivedAt;
      await this.save();
    });
    return { snapshot: received.snapshot, bytes };
  }

  /** A demoted Active's node: an Inactive copy of `active`'s from now on, brought up to date by its next copies. */
  adoptDemoted(spec: NodeSpec, active: string): Promise<void> {
    return this.queue.run(async () => {
      const copies = await this.load();
      const now = new Date().toISOString();
      copies.set(spec.name, { node: spec.name, active, owner: this.deps.owner(), token: 0, spec, volumes: {}, updatedAt: now });
      await this.save();
    });
  }

  /** Forgets a copy (it was promoted here, or the Active let this station go); its snapshots stay until deleted. */
  forget(node: string): Promise<void> {
    return this.queue.run(async () => {
      const copies = await this.load();
      copies.delete(node);
      await this.save();
    });
  }

  /**
   * Drops a copy and everything it holds here (its node was deleted on its Active): the received
   * snapshots, and a demoted copy's volumes and diverged snapshots. A node of this station's own by
   * that name is never touched. `before`: only a copy whose tokens are all older than this revision
   * (the lease store's note of the deletion), not one of a node made again since under that name.
   * False when no such copy is held here.
   */
  async drop(node: string, before = Number.POSITIVE_INFINITY): Promise<boolean> {
    const copy = await this.queue.run(async () => {
      const copies = await this.load();
      const held = copies.get(node);
      if (!held || held.token >= before) return null;
      copies.delete(node);
      await this.save();
      return held;
    });
    if (!copy) return false;
    const driver = this.deps.driver();
    if (!driver || this.deps.localNode(node)) return true;
    for (const volume of copy.spec.volumes) {
      const ref = { node, volume: volume.name };
      if (await driver.volumeExists(ref))
        await driver.deleteVolume(ref); // its snapshots with it
      else for (const snapshot of await driver.listSnapshots(ref)) await driver.deleteSnapshot(ref, snapshot.name);
    }
    return true;
  }

  /**
   * Keeps the newest KEEP_RECEIVED snapshot sets of a volume (the Active plans each increment from the
   * newest one both hold); others, such as a demoted copy's diverged writes, stay until a person deletes them.
   */
  private async pruneReceived(ref: { node: string; volume: string }): Promise<void> {
    const driver = this.deps.driver()!;
    const sets = setsOldestFirst((await driver.listSnapshots(ref)).map((s) => s.name));
    for (const name of sets.slice(0, -KEEP_RECEIVED)) await driver.deleteSnapshot(ref, name).catch(() => undefined);
  }

  private receiver(): ReplicaReceiver {
    const driver = this.deps.driver();
    if (!driver?.supports.transfer) throw new UnavailableError('REPLICAS_NO_BTRFS', 'this station cannot receive copies: its volumes are not on btrfs');
    return new ReplicaReceiver(driver, this.tokens);
  }

  /** The copies by node: a Map, so that a node named like an Object property (constructor) is just a name. */
  private async load(): Promise<Map<string, InactiveCopy>> {
    if (!this.copies) {
      const text = await readFile(this.file, 'utf8').catch(() => null);
      this.copies = new Map(Object.entries(text ? (JSON.parse(text) as Record<string, InactiveCopy>) : {}));
    }
    return this.copies;
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(Object.fromEntries(this.copies ?? []), null, 2)}\n`, 0o600);
  }
}
