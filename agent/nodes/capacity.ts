// Does a node fit the station? Pure: given what the host has free and what other nodes reserve,
// decide before anything is created. Reading /proc/meminfo and statfs happens in the service.
import { CapacityError } from '../errors.ts';
import type { TemplateName } from './driver.ts';

const MiB = 1024 * 1024;

/** What the host keeps for itself (agent, kernel, page cache) before nodes may reserve memory. */
export const HOST_MEMORY_RESERVE_MB = 256;
/** Disk a new node needs at least, by template (a clone is small; writes grow it later). */
export const TEMPLATE_DISK_MB: Readonly<Record<TemplateName, number>> = { busybox: 16, debian: 512 };
/** Disk the host keeps free whatever the nodes need. */
export const HOST_DISK_RESERVE_MB = 512;

export interface HostCapacity {
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  diskFreeBytes: number;
  cpus: number;
}

export interface NodeNeed {
  name: string;
  template: TemplateName;
  memoryMB?: number;
  cpus?: number;
}

/**
 * Throws CapacityError when the node does not fit. Memory: a node's memoryMB is a reservation; it
 * must fit both the memory the host has available now and the total minus every other node's
 * reservation (so reservations never overcommit the station).
 */
export function checkCapacity(need: NodeNeed, host: HostCapacity, otherReservationsMB: number): void {
  if (need.cpus !== undefined && need.cpus > host.cpus) {
    throw new CapacityError('NODE_TOO_BIG', `node ${need.name} asks for ${need.cpus} CPUs; this station has ${host.cpus}`);
  }
  if (need.memoryMB !== undefined) {
    const totalMB = Math.floor(host.memoryTotalBytes / MiB);
    const availableMB = Math.floor(host.memoryAvailableBytes / MiB) - HOST_MEMORY_RESERVE_MB;
    const unreservedMB = totalMB - HOST_MEMORY_RESERVE_MB - otherReservationsMB;
    const fits = Math.min(availableMB, unreservedMB);
    if (need.memoryMB > fits) {
      throw new CapacityError(
        'INSUFFICIENT_MEMORY',
        `node ${need.name} needs ${need.memoryMB} MiB of memory; the station can give ${Math.max(0, fits)} MiB (${Math.max(0, availableMB)} MiB ` +
          `available, ${otherReservationsMB} MiB reserved by other nodes)`,
      );
    }
  }
  const diskMB = Math.floor(host.diskFreeBytes / MiB) - HOST_DISK_RESERVE_MB;
  const needDisk = TEMPLATE_DISK_MB[need.template];
  if (needDisk > diskMB) {
    throw new CapacityError(
      'INSUFFICIENT_DISK',
      `node ${need.name} (${need.template}) needs ${needDisk} MiB of disk; the station has ${Math.max(0, diskMB)} MiB free`,
    );
  }
}

/** Parses /proc/meminfo (kB values) into total and available bytes. */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (m) values.set(m[1]!, Number(m[2]) * 1024);
  }
  const totalBytes = values.get('MemTotal');
  if (totalBytes === undefined) throw new Error('meminfo has no MemTotal line');
  const availableBytes = values.get('MemAvailable') ?? (values.get('MemFree') ?? 0) + (values.get('Cached') ?? 0);
  return { totalBytes, availableBytes };
}
