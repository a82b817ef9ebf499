// Reads per-node traffic counters out of `nft -j list counters table inet station` (pure parser
// on captured output) and sums them per node and direction for the node status.
import type { CounterInfo, CounterValue } from './types.ts';

/** name -> value, from nft's JSON output; only counters of our table. */
export function parseNftCounters(json: string, table = 'station'): Record<string, CounterValue> {
  const doc = JSON.parse(json) as {
    nftables?: { counter?: { family: string; table: string; name: string; packets: number; bytes: number } }[];
  };
  const out: Record<string, CounterValue> = {};
  for (const item of doc.nftables ?? []) {
    const c = item.counter;
    if (c && c.family === 'inet' && c.table === table) out[c.name] = { packets: c.packets, bytes: c.bytes };
  }
  return out;
}

export interface DirectionCounters {
  allowed: CounterValue;
  dropped: CounterValue;
}

export interface NodeCounters {
  node: string;
  egress: DirectionCounters;
  ingress: DirectionCounters;
  /** every rule of the node with its own counter, in policy order */
  rules: (CounterInfo & CounterValue)[];
}

const zero = (): CounterValue => ({ packets: 0, bytes: 0 });
const add = (a: CounterValue, b: CounterValue): void => {
  a.packets += b.packets;
  a.bytes += b.bytes;
};

/**
 * One node's counters. Egress: its rules to other places, to the station, and their drops.
 * Ingress: its rules from others and exposed ports (`.conn` counters count connections, not
 * packets, so they are listed but not summed).
 */
export function nodeCounters(node: string, index: CounterInfo[], values: Record<string, CounterValue>): NodeCounters {
  const result: NodeCounters = {
    node,
    egress: { allowed: zero(), dropped: zero() },
    ingress: { allowed: zero(), dropped: zero() },
    rules: [],
  };
  for (const info of index) {
    if (info.node !== node) continue;
    const value = values[info.name] ?? zero();
    result.rules.push({ ...info, ...value });
    if (info.name.endsWith('.conn')) continue;
    const side = info.direction === 'egress' || info.direction === 'station' ? result.egress : result.ingress;
    add(info.verdict === 'allow' ? side.allowed : side.dropped, value);
  }
  return result;
}
