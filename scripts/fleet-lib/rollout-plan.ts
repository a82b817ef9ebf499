// Pure decisions of a staged rollout: which devices go first, and whether the first wave is healthy.
// Devices are chosen deterministically (by uuid) so a rerun with the same fraction picks the same
// canaries; at least one device, never more than all.

export interface FleetDevice {
  id: number;
  uuid: string;
  name: string;
  online: boolean;
  /** release id the device runs now (null when unknown) */
  runningRelease: number | null;
  pinnedRelease: number | null;
  health: string | null;
  version: string | null;
  nodesRunning: number | null;
  nodesTotal: number | null;
}

export function pickCanaries(devices: FleetDevice[], fraction: number): FleetDevice[] {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`the fraction must be more than 0 and at most 1 (got ${fraction})`);
  const online = devices.filter((d) => d.online).sort((a, b) => a.uuid.localeCompare(b.uuid));
  if (online.length === 0) return [];
  return online.slice(0, Math.max(1, Math.round(online.length * fraction)));
}

export type WaveVerdict = { state: 'healthy' } | { state: 'waiting'; pending: string[] } | { state: 'unhealthy'; failed: string[] };

/** Healthy once every canary runs the release and reports health ok; unhealthy if any runs it and is not ok. */
export function judgeWave(canaries: FleetDevice[], releaseId: number): WaveVerdict {
  const failed = canaries.filter((d) => d.runningRelease === releaseId && d.health !== null && d.health !== 'ok' && d.health !== 'handing-over');
  if (failed.length) return { state: 'unhealthy', failed: failed.map((d) => `${d.name} (${d.health})`) };
  const pending = canaries.filter((d) => d.runningRelease !== releaseId || d.health !== 'ok');
  if (pending.length) return { state: 'waiting', pending: pending.map((d) => d.name) };
  return { state: 'healthy' };
}

export function formatTable(devices: FleetDevice[], releaseCommit: (id: number | null) => string): string {
  const rows = [['NAME', 'UUID', 'ONLINE', 'RELEASE', 'PINNED', 'HEALTH', 'VERSION', 'NODES']];
  for (const d of devices) {
    rows.push([
      d.name,
      d.uuid.slice(0, 7),
      d.online ? 'yes' : 'no',
      releaseCommit(d.runningRelease),
      d.pinnedRelease ? releaseCommit(d.pinnedRelease) : '-',
      d.health ?? '?',
      d.version ?? '?',
      d.nodesTotal === null ? '?' : `${d.nodesRunning}/${d.nodesTotal}`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
