// One volume's hot copy, Active -> Inactive: the newest snapshot as a btrfs send stream (the changes
// since the newest snapshot both hold, else whole), carrying the sender's fencing token. The receiver
// admits the token before it reads a byte and lets btrfs receive check the rest (the driver's
// receiveSnapshot: confined, one read-only snapshot, a parent of this volume only). How the bytes
// travel between stations is the target's business (over the mesh: an HTTP stream).
import { type Readable, Transform } from 'node:stream';
import type { VolumeDriver, VolumeRef } from '../../storage/driver.ts';
import type { FencingTokens } from './fencing-tokens.ts';
import { planSend } from './send-plan.ts';

/** The receiving station as the sender sees it. */
export interface ReplicaTarget {
  station: string;
  /** the volume's snapshots it holds, oldest first */
  snapshots(ref: VolumeRef): Promise<string[]>;
  receive(ref: VolumeRef, token: number, stream: Readable): Promise<{ snapshot: string }>;
}

export interface SendResult {
  snapshot: string | null;
  /** the parent the increment was made against; null for a whole stream (or nothing sent) */
  parent: string | null;
  sent: boolean;
  bytes: number;
  seconds: number;
  /** the receiver lacked the planned parent: sent whole instead */
  fellBackToFull: boolean;
}

/** The receiving side on an Inactive station. */
export class ReplicaReceiver {
  private readonly on: { driver: VolumeDriver; tokens: FencingTokens };

  constructor(driver: VolumeDriver, tokens: FencingTokens) {
    this.on = { driver, tokens };
  }

  async snapshots(ref: VolumeRef): Promise<string[]> {
    return (await this.on.driver.listSnapshots(ref)).map((s) => s.name);
  }

  /** Admits the token, then receives; a refused stream is left unread (the caller drops it). */
  async receive(ref: VolumeRef, token: number, from: Readable): Promise<{ snapshot: string }> {
    await this.on.tokens.admit(ref.node, token);
    return this.on.driver.receiveSnapshot(ref, from);
  }
}

/** Sends the volume's newest snapshot to `target` unless it holds it already. */
export async function sendNewest(driver: VolumeDriver, ref: VolumeRef, token: number, target: ReplicaTarget): Promise<SendResult> {
  const ours = (await driver.listSnapshots(ref)).map((s) => s.name);
  const plan = planSend(ours, await target.snapshots(ref));
  if (!plan?.needed) return { snapshot: plan?.snapshot ?? null, parent: null, sent: false, bytes: 0, seconds: 0, fellBackToFull: false };
  try {
    return { ...(await transfer(driver, ref, token, target, plan.snapshot, plan.parent)), fellBackToFull: false };
  } catch (error) {
    // the receiver lost the parent (pruned, or a new disk): the whole snapshot instead
    if (plan.parent === null || (error as { code?: string }).code !== 'SNAPSHOT_PARENT_MISSING') throw error;
    return { ...(await transfer(driver, ref, token, target, plan.snapshot, null)), fellBackToFull: true };
  }
}

async function transfer(driver: VolumeDriver, ref: VolumeRef, token: number, target: ReplicaTarget, snapshot: string, parent: string | null) {
  const started = performance.now();
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const sending = driver.sendSnapshot(ref, snapshot, counter, parent === null ? {} : { parent });
  try {
    await target.receive(ref, token, counter);
  } catch (error) {
    // refused or failed on the far side: stop btrfs send, report the receiver's reason
    counter.destroy();
    await sending.catch(() => undefined);
    throw error;
  }
  await sending;
  return { snapshot, parent, sent: true, bytes, seconds: (performance.now() - started) / 1000 };
}
