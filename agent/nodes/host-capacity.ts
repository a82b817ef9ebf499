// Reads what the station has free right now (impure; the decision is capacity.ts, pure).
import { readFile, statfs, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseMeminfo, type HostCapacity } from './capacity.ts';

export async function readHostCapacity(diskPath: string): Promise<HostCapacity> {
  const memory = parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
  await mkdir(diskPath, { recursive: true });
  const fs = await statfs(diskPath);
  return {
    memoryTotalBytes: memory.totalBytes,
    memoryAvailableBytes: memory.availableBytes,
    diskFreeBytes: fs.bavail * fs.bsize,
    cpus: availableParallelism(),
  };
}

/** The kernel's id for this boot: a change means the host restarted since the last agent run. */
export async function readBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return 'unknown';
  }
}
