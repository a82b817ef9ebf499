// What the station holds, to compare before and after a refused request: what the GET routes show
// of nodes, mesh, pairing, Wi-Fi, aliases and the status summaries (read from the same service calls
// those thin routes make, which is much cheaper per request than going through HTTP), and a hash of
// every file in the state directory. Fields that change with the clock or with the processes' own
// lives (uptime, remaining seconds, Nebula's pid and restarts, last sync time, hardware detection)
// are left out: a request cannot be blamed for them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { StationSystem } from '../../../agent/system.ts';

export type Snapshot = Record<string, string>;

const VIEWS: { key: string; read: (system: StationSystem) => unknown }[] = [
  { key: 'nodes', read: (s) => s.nodes.actions().list() },
  {
    key: 'mesh',
    read: (s) => {
      const { syncedAt: _synced, nebula: _nebula, state: _state, ...rest } = s.mesh.info();
      return rest;
    },
  },
  {
    key: 'pairing',
    read: (s) => {
      const { remainingSeconds: _remaining, ...rest } = s.indicator.pairingState();
      return rest;
    },
  },
  { key: 'wifi', read: (s) => s.wifi.status() },
  { key: 'aliases', read: (s) => s.network.aliasListing('all') },
  {
    key: 'status',
    read: (s) => {
      const status = s.status.status();
      return {
        subsystems: status.subsystems.filter((x) => x.name !== 'hardware'),
        summaries: Object.fromEntries(Object.entries(status.summaries).filter(([name]) => name !== 'hardware')),
      };
    },
  },
];

/** Files the station or its daemons rewrite on their own schedule (hardware report, logs, Nebula's pid on a restart). */
const VOLATILE_FILES = [/(^|\/)hardware[^/]*\.json$/, /\.tmp[^/]*$/, /(^|\/)logs?\//, /\.log$/, /\.pid$/];

function hashTree(dir: string, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (VOLATILE_FILES.some((re) => re.test(rel))) continue;
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      out[`${rel}/`] = `dir ${mode}`;
      hashTree(path, rel, out);
    } else if (st.isFile()) {
      let hash = 'large';
      if (st.size <= 4 * 1024 * 1024) {
        try {
          hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
        } catch {
          hash = 'gone';
        }
      }
      out[rel] = `${mode} ${st.size} ${hash}`;
    } else {
      out[rel] = st.isSymbolicLink() ? 'link' : 'other';
    }
  }
  return out;
}

export async function snapshot(system: StationSystem, stateDir: string): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const view of VIEWS) {
    try {
      out[view.key] = JSON.stringify(await view.read(system));
    } catch (error) {
      // An off subsystem throws its 503 error: that it is off is the state.
      out[view.key] = `error ${(error as { code?: string }).code ?? (error as Error).message}`;
    }
  }
  for (const [path, hash] of Object.entries(hashTree(stateDir))) out[`file:${path}`] = hash;
  return out;
}

/**
 * A pairing window that reached its end while the request ran closed by its own timer: the
 * window and the indicator's summary of it are compared as if it had closed before.
 */
function closedByClock(before: Snapshot, now: number): Snapshot {
  let pairing: { open?: boolean; closesAt?: string | null };
  try {
    pairing = JSON.parse(before.pairing ?? '{}') as typeof pairing;
  } catch {
    return before;
  }
  if (!pairing.open || !pairing.closesAt || Date.parse(pairing.closesAt) > now + 500) return before;
  return {
    ...before,
    pairing: JSON.stringify({ ...pairing, open: false, closesAt: null, openedBy: null }),
    status: (before.status ?? '').replace('"pairing":true', '"pairing":false'),
  };
}

/** The keys whose values differ, with both values (cut), or [] when nothing changed. */
export function differences(before: Snapshot, after: Snapshot, now = Date.now()): string[] {
  const base = before.pairing !== after.pairing ? closedByClock(before, now) : before;
  const keys = new Set([...Object.keys(base), ...Object.keys(after)]);
  const cut = (s: string | undefined) => (s === undefined ? '(absent)' : s.length > 200 ? `${s.slice(0, 200)}…` : s);
  return [...keys].filter((k) => base[k] !== after[k]).map((k) => `${k}: ${cut(base[k])} -> ${cut(after[k])}`);
}
