// Hot copies over the mesh, pulled: the Active asks each Inactive to fetch the newest snapshot of a
// volume (whole, or the changes since the newest snapshot both hold), and the Inactive reads it as
// the response of a GET to the Active's station API, straight into btrfs receive. Pulled rather than
// pushed because an HTTP request body must arrive within the API's request timeout (30 s), while a
// response may stream as long as the volume takes. Both sides know each other by the mesh address a
// request comes from; the Active serves the stream only while it holds the node's lease with the
// token the Inactive admitted.
import type { VolumeDriver, VolumeRef } from '../../storage/driver.ts';
import type { SendResult } from './replica-stream.ts';
import { planSend, setsOldestFirst } from './send-plan.ts';

/** An Inactive station as the Active sees it. */
export interface PullTarget {
  station: string;
  /** the volume's snapshots it holds, oldest first */
  snapshots(ref: VolumeRef): Promise<string[]>;
  /** asks it to fetch `snapshot` (the changes since `parent`, or whole) from this station */
  pull(ref: VolumeRef, token: number, snapshot: string, parent: string | null): Promise<{ snapshot: string; bytes: number }>;
}

/** What one copy did: as a pushed send reports it (replica-stream.ts). */
export type CopyResult = SendResult;

/** Brings `target` up to this station's newest snapshot of the volume, unless it holds it already. */
export async function copyNewest(driver: VolumeDriver, ref: VolumeRef, token: number, target: PullTarget): Promise<CopyResult> {
  const ours = setsOldestFirst((await driver.listSnapshots(ref)).map((s) => s.name));
  const plan = planSend(ours, await target.snapshots(ref));
  const nothing = { parent: null, sent: false, bytes: 0, seconds: 0, fellBackToFull: false };
  if (!plan?.needed) return { snapshot: plan?.snapshot ?? null, ...nothing };
  const started = performance.now();
  const done = (bytes: number, parent: string | null, fellBackToFull: boolean): CopyResult => ({
    snapshot: plan.snapshot,
    parent,
    sent: true,
    bytes,
    seconds: (performance.now() - started) / 1000,
    fellBackToFull,
  });
  try {
    return done((await target.pull(ref, token, plan.snapshot, plan.parent)).bytes, plan.parent, false);
  } catch (error) {
    // the receiver lost the parent (pruned, or a new disk): the whole snapshot instead
    if (plan.parent === null || (error as { code?: string }).code !== 'SNAPSHOT_PARENT_MISSING') throw error;
    return done((await target.pull(ref, token, plan.snapshot, null)).bytes, null, true);
  }
}
