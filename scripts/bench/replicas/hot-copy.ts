// Part 2: the hot copy of one volume (agent/replicas/stream) between two real btrfs pools, pool a the
// Active station's and pool b an Inactive's, in this process (as replicas-stream does: the mesh
// transport is not built yet). Each round: a new volume with `dataBytes` of random data in files of
// up to 8 MiB, snapshot s-1, sendNewest to b's ReplicaReceiver (whole: b holds nothing); then
// `changedBytes` overwritten in place at a random offset of one file, snapshot s-2, sendNewest again
// (the increment against s-1). Baseline in the same round: `cp -a --reflink=never` of s-1's files
// onto pool b, alternating with the whole send in which goes first. Every timing ends with `sync -f`
// of pool b (the data on its disk, not just in the page cache); the source's data is synced before
// (warm in the cache, as it is right after a snapshot). The replica is checked to hold the change.
// Each send also reports the stream alone (sendNewest's own seconds, without listing both sides'
// snapshots and without the sync): what a send costs however little changed shows in the difference.
import { randomBytes, randomInt } from 'node:crypto';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import type { ReplicaTarget } from '../../../agent/replicas/stream/replica-stream.ts';
import { sendNewest } from '../../../agent/replicas/stream/replica-stream.ts';
import type { BtrfsVolumeDriver } from '../../../agent/storage/btrfs-driver.ts';

export interface CopyPools {
  a: { driver: BtrfsVolumeDriver; mountPoint: string };
  b: { driver: BtrfsVolumeDriver; mountPoint: string; target: ReplicaTarget };
}

export interface CopySizes {
  dataBytes: number;
  changedBytes: number;
}

/** ms: the whole step (sendNewest: both sides' snapshots listed, the stream, the receiver's checks; then sync -f);
 * streamMs: btrfs send into btrfs receive and the receiver's checks (sendNewest's own `seconds`) */
export interface Sent {
  ms: number;
  streamMs: number;
  bytes: number;
}

export interface CopyRound {
  whole: Sent;
  /** cp --reflink=never of the same files onto pool b */
  cp: { ms: number };
  increment: Sent;
}

const MiB = 1024 * 1024;
/** the fencing token every stream carries (one Active throughout) */
const TOKEN = 1;

const sinceMs = (start: number) => performance.now() - start;

export async function copyRound(pools: CopyPools, round: number, sizes: CopySizes): Promise<CopyRound> {
  const { a, b } = pools;
  const ref = { node: `web${round}`, volume: 'data' };
  const fileBytes = Math.min(8 * MiB, sizes.dataBytes);
  const files = Math.ceil(sizes.dataBytes / fileBytes);
  if (sizes.changedBytes > fileBytes) throw new Error(`the change (${sizes.changedBytes} bytes) must fit in one file of ${fileBytes} bytes`);
  const copyDir = join(b.mountPoint, `cp-${round}`);
  await a.driver.createVolume(ref);
  try {
    const volume = a.driver.mountSource(ref);
    for (let f = 0; f < files; f++) await writeFile(join(volume, `f${f}.bin`), randomBytes(Math.min(fileBytes, sizes.dataBytes - f * fileBytes)));
    await a.driver.createSnapshot(ref, 's-1');
    await exec(['sync', '-f', a.mountPoint]);

    const send = async (parent: string | null): Promise<Sent> => {
      const start = performance.now();
      const sent = await sendNewest(a.driver, ref, TOKEN, b.target);
      await exec(['sync', '-f', b.mountPoint]);
      const ms = sinceMs(start);
      if (!sent.sent || sent.parent !== parent) throw new Error(`expected a send against ${parent}, got ${JSON.stringify(sent)}`);
      return { ms, streamMs: sent.seconds * 1000, bytes: sent.bytes };
    };
    const copy = async () => {
      const start = performance.now();
      await exec(['cp', '-a', '--reflink=never', `${a.driver.snapshotSource(ref, 's-1')}/.`, copyDir], { timeoutMs: 600_000 });
      await exec(['sync', '-f', b.mountPoint]);
      return { ms: sinceMs(start) };
    };
    let whole: CopyRound['whole'];
    let cp: CopyRound['cp'];
    if (round % 2) {
      cp = await copy();
      whole = await send(null);
    } else {
      whole = await send(null);
      cp = await copy();
    }

    const file = `f${round % files}.bin`;
    const offset = 4096 * randomInt(Math.floor((fileBytes - sizes.changedBytes) / 4096) + 1);
    const piece = randomBytes(sizes.changedBytes);
    const handle = await open(join(volume, file), 'r+');
    await handle.write(piece, 0, piece.length, offset).finally(() => handle.close());
    await a.driver.createSnapshot(ref, 's-2');
    await exec(['sync', '-f', a.mountPoint]);
    const increment = await send('s-1');

    const replica = await readFile(join(b.driver.snapshotSource(ref, 's-2'), file));
    if (!replica.subarray(offset, offset + piece.length).equals(piece)) throw new Error(`the replica's ${file} lacks the change at ${offset}`);
    return { whole, cp, increment };
  } finally {
    await a.driver.deleteVolume(ref);
    for (const snapshot of await b.driver.listSnapshots(ref).catch(() => [])) await b.driver.deleteSnapshot(ref, snapshot.name);
    await rm(copyDir, { recursive: true, force: true });
  }
}
