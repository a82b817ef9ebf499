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

export interface LocalNodeName {
  name: string;
  address: string;
  aliases?: string[];
}

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

/** At most this many records from one peer: a station's nodes (a /24) with a few aliases each. */
export const MAX_RECORDS_PER_PEER = 2048;
/** A DNS name is at most 253 characters. */
const MAX_NAME_LENGTH = 253;

/** Who we pulled the records from: its station name and, when the mesh says, its owner. */
export interface RemotePeer {
  station: string;
  owner?: string;
}
export interface RefusedRecord {
  name: string;
  reason: string;
}
export interface RemoteRecords {
  records: AliasRecord[];
  refused: RefusedRecord[];
}

/**
 * Keeps only the records a peer may publish (issue 11, finding 8): its own node names
 * NODE.PEER.<domain> and aliases of its own owner ALIAS.OWNER.<domain> (of its own label while
 * its owner is unknown), with IPv4 addresses, at most MAX_RECORDS_PER_PEER. A `since` is the
 * peer's word, so it is bounded: never later than now, and for a claim we already had from this
 * peer (same name, address and node) never later than what we gave it then. A peer can therefore
 * not win a name forever by stamping it with the future or with "now" on every pull.
 */
export function sanitizeRemote(records: unknown, peer: RemotePeer, domain: string, now: number, previous: AliasRecord[]): RemoteRecords {
  const out: RemoteRecords = { records: [], refused: [] };
  if (!Array.isArray(records)) return out;
  const before = new Map(previous.map((r) => [r.name, r]));
  const station = peer.station.toLowerCase();
  const owner = (peer.owner ?? peer.station).toLowerCase();
  const seen = new Set<string>();
  for (const [i, raw] of records.entries()) {
    const r = (raw && typeof raw === 'object' ? raw : {}) as Partial<AliasRecord>;
    const shownName = typeof r.name === 'string' ? r.name.slice(0, 80) : `#${i}`;
    if (out.records.length >= MAX_RECORDS_PER_PEER) {
      out.refused.push({ name: shownName, reason: `over the cap of ${MAX_RECORDS_PER_PEER} records per station` });
      continue;
    }
    const problem = recordProblem(r, station, owner, domain);
    if (problem) {
      out.refused.push({ name: shownName, reason: problem });
      continue;
    }
    const name = (r.name as string).toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    const claimed = typeof r.since === 'number' && Number.isFinite(r.since) ? r.since : 0;
    const old = before.get(name);
    const known = old && old.address === r.address && old.node === r.node ? old.since : Infinity;
    out.records.push({
      name,
      address: r.address as string,
      station: peer.station,
      node: r.node as string,
      kind: r.kind as AliasRecord['kind'],
      since: Math.min(claimed, now, known),
    });
  }
  return out;
}

/** Why a peer may not publish this record; undefined when it may. */
function recordProblem(r: Partial<AliasRecord>, station: string, owner: string, domain: string): string | undefined {
  if (typeof r.name !== 'string' || typeof r.address !== 'string' || typeof r.node !== 'string') return 'not a record (name, address, node)';
  if (r.name.length > MAX_NAME_LENGTH) return `name longer than ${MAX_NAME_LENGTH} characters`;
  if (!LABEL.test(r.node)) return 'node is not a DNS label';
  const m = IPV4.exec(r.address);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return 'address is not IPv4';
  const name = r.name.toLowerCase();
  if (r.kind === 'node') return name === nodeName(r.node, station, domain) ? undefined : `a node record must be NODE.${station}.${domain} for its own node`;
  if (r.kind !== 'alias') return 'kind is neither node nor alias';
  const suffix = `.${owner}.${domain}`;
  if (!name.endsWith(suffix) || !LABEL.test(name.slice(0, -suffix.length))) return `an alias must be ALIAS.${owner}.${domain} (its own owner's)`;
  return undefined;
}
