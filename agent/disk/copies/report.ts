// A node's copies as GET /disk and the page show them (pure): each copy's state, when it last
// succeeded, how old the data it holds is, and want/have with the reason when fewer (3/3 green,
// 2/3 amber with why).
import type { CopiesReport, CopyReport } from '../overview.ts';
import type { CopyRecord } from './copies-state.ts';

export function copyReport(c: CopyRecord, offline: boolean, now: number): CopyReport {
  const failingNow = c.lastError !== null && (!c.lastSuccess || Date.parse(c.lastErrorAt ?? c.lastSuccess) >= Date.parse(c.lastSuccess));
  let state: CopyReport['state'] = 'ok';
  let reason: string | null = null;
  if (c.damaged) [state, reason] = ['failing', `damaged, being replaced: ${c.lastError ?? 'check failed'}`];
  else if (offline) [state, reason] = ['lost', `${c.station} is offline${c.lastError ? `: ${c.lastError}` : ''}`];
  else if (failingNow) [state, reason] = ['failing', c.lastError];
  else if (!c.lastSuccess) [state, reason] = ['pending', 'first backup not done yet'];
  return {
    station: c.station,
    state,
    lastSuccess: c.lastSuccess,
    lagSeconds: c.lastSetAt ? Math.max(0, Math.round((now - Date.parse(c.lastSetAt)) / 1000)) : null,
    bytes: c.bytes,
    snapshot: c.lastSnapshot,
    reason,
  };
}

export function copiesReport(
  want: number,
  copies: CopyRecord[],
  reason: string | null,
  offlineSince: ReadonlyMap<string, number>,
  now = Date.now(),
): CopiesReport {
  const list = copies.map((c) => copyReport(c, offlineSince.has(c.station), now));
  const have = list.filter((c) => c.state === 'ok').length;
  if (have >= want) return { want, have, state: 'ok', reason: null, list };
  const why = reason ?? list.find((c) => c.reason)?.reason ?? `${have} of ${want} copies are current`;
  return { want, have, state: 'degraded', reason: why, list };
}
