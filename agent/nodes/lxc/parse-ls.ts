// Parsers for what LXC tells about containers, and the rule that decides which nodes are whole.
import type { NodeState, ObservedNode } from '../driver.ts';

export interface LsRow {
  name: string;
  state: NodeState;
  pid: number | null;
}

const STATES: Record<string, NodeState> = {
  RUNNING: 'running',
  STOPPED: 'stopped',
  STARTING: 'starting',
  STOPPING: 'stopping',
  ABORTING: 'stopping',
  FREEZING: 'frozen',
  FROZEN: 'frozen',
  THAWED: 'running',
};

export const lxcState = (raw: string): NodeState => STATES[raw.trim().toUpperCase()] ?? 'unknown';

/** `lxc-ls -P PATH --fancy -F name,state,pid`: a header line, then one padded row per container. */
export function parseLxcLsFancy(text: string): LsRow[] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) return [];
  const header = lines[0]!.split(/\s+/).map((h) => h.toUpperCase());
  const col = (name: string): number => header.indexOf(name);
  const [iName, iState, iPid] = [col('NAME'), col('STATE'), col('PID')];
  if (iName < 0 || iState < 0) throw new Error(`unexpected lxc-ls header: ${lines[0]}`);
  return lines.slice(1).map((line) => {
    const cells = line.split(/\s+/);
    const pid = iPid >= 0 ? Number(cells[iPid]) : NaN;
    return { name: cells[iName]!, state: lxcState(cells[iState] ?? ''), pid: Number.isInteger(pid) && pid > 0 ? pid : null };
  });
}

/** `lxc-info -P PATH -n NAME -s -p`: "State:          RUNNING" and "PID:            123" lines. */
export function parseLxcInfo(text: string): { state: NodeState; pid: number | null } | null {
  const state = /^State:\s+(\S+)/m.exec(text)?.[1];
  if (!state) return null;
  const pid = Number(/^PID:\s+(\d+)/m.exec(text)?.[1]);
  return { state: lxcState(state), pid: pid > 0 ? pid : null };
}

/** One directory under the lxcpath, as seen on disk. */
export interface ContainerDirEntry {
  name: string;
  hasConfig: boolean;
  hasPartialMarker: boolean;
}

/**
 * Merges what lxc-ls reports with what is on disk. A node is whole only when its directory has a
 * config and no partial marker: create() writes the marker first and removes it last, so a
 * create killed at any point leaves a node reported `partial: true`, never one that looks whole.
 */
export function observeNodes(rows: LsRow[], dirs: ContainerDirEntry[]): ObservedNode[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const nodes: ObservedNode[] = [];
  for (const dir of dirs) {
    if (dir.name.startsWith('.')) continue;
    const row = byName.get(dir.name);
    const partial = !dir.hasConfig || dir.hasPartialMarker;
    nodes.push({ name: dir.name, state: row?.state ?? 'stopped', pid: row?.pid ?? null, partial });
    byName.delete(dir.name);
  }
  // listed by LXC but not seen on disk (raced with a destroy): report what LXC says
  for (const row of byName.values()) nodes.push({ name: row.name, state: row.state, pid: row.pid, partial: false });
  return nodes.sort((a, b) => a.name.localeCompare(b.name));
}
