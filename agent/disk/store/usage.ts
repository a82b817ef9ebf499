// How much the store holds: `du -sb` (apparent bytes, what restic wrote) per user directory and for
// the whole store (du counts a file hard-linked into several directories once), and the file
// system's free space (statfs). The parser is pure; measuring goes through the one runner.
import { statfs } from 'node:fs/promises';
import type { Runner } from '../../exec.ts';

/** `du -sb DIR...` output -> bytes per path, in order. */
export function parseDu(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d+)\t(.+)$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

/** Bytes under `dir` (0 when it does not exist). */
export async function bytesUnder(run: Runner, dir: string): Promise<number> {
  const r = await run(['du', '-sb', dir], { allowFailure: true, timeoutMs: 120_000 });
  return r.exitCode === 0 ? (parseDu(r.stdout).get(dir) ?? 0) : 0;
}

/** Bytes free on the file system holding `dir`, for an unprivileged writer (rclone runs as the agent's user, root). */
export async function freeBytes(dir: string): Promise<{ free: number; size: number }> {
  const s = await statfs(dir);
  return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
}

export interface Capacity {
  offerBytes: number;
  /** everything the store holds */
  usedBytes: number;
  /** the file system's free space */
  diskFreeBytes: number;
  /** kept free on the file system whatever the offer says */
  reserveBytes: number;
}

/** What a new grant may still use: the rest of the offer, never beyond the disk's free space minus the reserve. */
export const roomLeft = (c: Capacity): number => Math.max(0, Math.min(c.offerBytes - c.usedBytes, c.diskFreeBytes - c.reserveBytes));

/** Why the store takes no more (null when it does). */
export function fullReason(c: Capacity): string | null {
  if (c.usedBytes >= c.offerBytes) return `the store holds ${c.usedBytes} bytes, its offer is ${c.offerBytes}`;
  if (c.diskFreeBytes <= c.reserveBytes) return `the disk has ${c.diskFreeBytes} bytes free, under the ${c.reserveBytes} bytes kept in reserve`;
  return null;
}

/** The reserve: 5% of the file system, at most 1 GiB (small test file systems keep a small one). */
export const reserveFor = (fsSize: number): number => Math.min(2 ** 30, Math.floor(fsSize * 0.05));
