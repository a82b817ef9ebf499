// Pure: the device tags a station reports to its fleet, from its status. scripts/fleet reads
// them back (parseStationTags), so both sides share one definition.
export const TAG_PREFIX = 'station.';

export interface StationTagSource {
  name: string;
  version: string;
  health: string;
  nodes?: { total: number; running: number } | null;
  /** this agent drives the nodes (false while it waits in a hand-over) */
  owner: boolean;
}

export function stationTags(source: StationTagSource): Record<string, string> {
  const tags: Record<string, string> = {
    [`${TAG_PREFIX}name`]: source.name,
    [`${TAG_PREFIX}version`]: source.version,
    [`${TAG_PREFIX}health`]: source.owner ? source.health : 'handing-over',
  };
  if (source.nodes) {
    tags[`${TAG_PREFIX}nodes.running`] = String(source.nodes.running);
    tags[`${TAG_PREFIX}nodes.total`] = String(source.nodes.total);
  }
  return tags;
}

export interface StationTags {
  name: string | null;
  version: string | null;
  health: string | null;
  nodesRunning: number | null;
  nodesTotal: number | null;
}

export function parseStationTags(tags: { tag_key: string; value: string }[]): StationTags {
  const get = (key: string) => tags.find((t) => t.tag_key === `${TAG_PREFIX}${key}`)?.value ?? null;
  const num = (key: string) => {
    const v = get(key);
    return v !== null && /^\d+$/.test(v) ? Number(v) : null;
  };
  return {
    name: get('name'),
    version: get('version'),
    health: get('health'),
    nodesRunning: num('nodes.running'),
    nodesTotal: num('nodes.total'),
  };
}

/** Pure: node counts from the status summaries, whatever shape the node subsystem reports. */
export function nodeCounts(summaries: Record<string, Record<string, unknown>>): { total: number; running: number } | null {
  const nodes = summaries.nodes;
  if (!nodes) return null;
  const total = typeof nodes.total === 'number' ? nodes.total : typeof nodes.count === 'number' ? nodes.count : null;
  const running = typeof nodes.running === 'number' ? nodes.running : null;
  if (total === null || running === null) return null;
  return { total, running };
}
