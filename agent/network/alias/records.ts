// Dynamic Alias records: every node is NODE.STATION.<domain>; a node may claim aliases
// ALIAS.OWNER.<domain> that follow it to whichever station runs it. Pure functions: which records
// this station publishes, which record wins when two stations claim one name, the hosts file.

export interface AliasRecord {
  /** fully qualified name, lower case, no trailing dot */
  name: string;
  address: string;
  /** the station the node runs on */
  station: string;
  node: string;
  kind: 'node' | 'alias';
  /** ms since epoch when this station started answering the name with this address: newest wins */
  since: number;
}

export interface LocalNodeName { name: string; address: string; aliases?: string[] }

export function nodeName(node: string, station: string, domain: string): string {
  return `${node}.${station}.${domain}`.toLowerCase();
}

export function aliasName(alias: string, owner: string, domain: string): string {
  return `${alias}.${owner}.${domain}`.toLowerCase();
}

/**
 * The records this station publishes for its running nodes. A record keeps its `since` while the
 * name keeps its address, so re-applying the same nodes changes nothing.
 */
export function localRecords(nodes: LocalNodeName[], station: string, owner: string, domain: string, previous: AliasRecord[], now: number): AliasRecord[] {
  const before = new Map(previous.map((r) => [r.name, r]));
  const out: AliasRecord[] = [];
  const keep = (rec: Omit<AliasRecord, 'since'>): void => {
    const old = before.get(rec.name);
    out.push({ ...rec, since: old && old.address === rec.address && old.node === rec.node ? old.since : now });
  };
  for (const node of nodes) {
    keep({ name: nodeName(node.name, station, domain), address: node.address, station, node: node.name, kind: 'node' });
    for (const alias of node.aliases ?? []) keep({ name: aliasName(alias, owner, domain), address: node.address, station, node: node.name, kind: 'alias' });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** One answer per name: the newest claim wins (a replica that became Active later); ties go to the lower station name. */
export function resolveRecords(all: AliasRecord[]): AliasRecord[] {
  const best = new Map<string, AliasRecord>();
  for (const rec of all) {
    const cur = best.get(rec.name);
    if (!cur || rec.since > cur.since || (rec.since === cur.since && rec.station < cur.station)) best.set(rec.name, rec);
  }
  return [...best.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** dnsmasq addn-hosts text: "ADDRESS NAME" per line. */
export function renderHosts(records: AliasRecord[]): string {
  return records.map((r) => `${r.address} ${r.name}`).join('\n') + (records.length ? '\n' : '');
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Keeps only well-formed records from a peer (names under our domain, IPv4 addresses). */
export function sanitizeRemote(records: unknown, station: string, domain: string): AliasRecord[] {
  if (!Array.isArray(records)) return [];
  const out: AliasRecord[] = [];
  for (const r of records as Partial<AliasRecord>[]) {
    if (!r || typeof r.name !== 'string' || typeof r.address !== 'string' || typeof r.node !== 'string') continue;
    const name = r.name.toLowerCase();
    if (!name.endsWith(`.${domain}`) || !name.slice(0, -domain.length - 1).split('.').every((l) => LABEL.test(l))) continue;
    const m = IPV4.exec(r.address);
    if (!m || m.slice(1).some((x) => Number(x) > 255)) continue;
    out.push({ name, address: r.address, station, node: r.node, kind: r.kind === 'alias' ? 'alias' : 'node', since: typeof r.since === 'number' ? r.since : 0 });
  }
  return out;
}
