// etcd 3.4's v3 API through its JSON gateway (POST /v3/...): the bodies the agent sends and how it
// reads the answers (pure; tested on recorded answers in test/fixtures/etcd). Keys and values travel
// base64-encoded; int64 fields arrive as decimal strings; fields at their zero value are left out
// (a keep-alive of a lease that is gone answers without a TTL).

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const fromB64 = (text: string | undefined): string => (text ? Buffer.from(text, 'base64').toString('utf8') : '');
const int = (text: string | undefined): number => (text ? Number(text) : 0);

/** The end of the key range that holds every key starting with `prefix` (etcd's convention: the
 * prefix with its last byte increased). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]! += 1;
      return bytes.subarray(0, i + 1).toString('base64');
    }
  }
  return b64('\0'); // all 0xff: to the end of the key space
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** the lease the key lives by (decimal string), null for none */
  lease: string | null;
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

const keyValue = (raw: RawKv): KeyValue => ({
  key: fromB64(raw.key),
  value: fromB64(raw.value),
  createRevision: int(raw.create_revision),
  modRevision: int(raw.mod_revision),
  version: int(raw.version),
  lease: raw.lease && raw.lease !== '0' ? raw.lease : null,
});

/** What the gateway says went wrong (`{"error": …, "code": …}`), or null. */
export function gatewayError(body: unknown): string | null {
  const b = body as { error?: string; message?: string } | null;
  return b && typeof b === 'object' && (b.error || b.message) ? (b.message ?? b.error)! : null;
}

/** POST /v3/lease/grant -> the lease's id (decimal string) and granted TTL in seconds. */
export function parseGrant(body: unknown): { id: string; ttl: number } {
  const b = body as { ID?: string; TTL?: string };
  if (!b?.ID) throw new Error(`etcd granted no lease: ${JSON.stringify(body)}`);
  return { id: b.ID, ttl: int(b.TTL) };
}

/** The transaction that puts `key` = `value` on `lease` only where the key does not exist; else reads it. */
export function createIfAbsent(key: string, value: string, lease: string): Record<string, unknown> {
  const k = b64(key);
  return {
    compare: [{ key: k, target: 'CREATE', create_revision: '0' }],
    success: [{ request_put: { key: k, value: b64(value), lease } }],
    failure: [{ request_range: { key: k } }],
  };
}

export type CreateResult = { created: true; revision: number } | { created: false; holder: KeyValue | null };

/** The answer to createIfAbsent: made at `revision`, or who holds the key. */
export function parseCreate(body: unknown): CreateResult {
  const b = body as {
    header?: { revision?: string };
    succeeded?: boolean;
    responses?: { response_range?: { kvs?: RawKv[] } }[];
  };
  if (b?.succeeded) return { created: true, revision: int(b.header?.revision) };
  const kvs = b?.responses?.[0]?.response_range?.kvs ?? [];
  return { created: false, holder: kvs[0] ? keyValue(kvs[0]) : null };
}

/** POST /v3/lease/keepalive -> the TTL left in seconds, or null when the lease is gone (expired or revoked). */
export function parseKeepAlive(body: unknown): number | null {
  const r = (body as { result?: { TTL?: string } })?.result;
  if (!r) throw new Error(`etcd did not answer the keep-alive: ${JSON.stringify(body)}`);
  const ttl = int(r.TTL);
  return ttl > 0 ? ttl : null;
}

/** POST /v3/kv/range -> the keys found. */
export function parseRange(body: unknown): KeyValue[] {
  return ((body as { kvs?: RawKv[] })?.kvs ?? []).map(keyValue);
}

/** The store's revision an answer was read at (a watch from revision + 1 misses nothing after it). */
export const headerRevision = (body: unknown): number => int((body as { header?: { revision?: string } })?.header?.revision);

export interface EtcdStatus {
  version: string;
  memberId: string;
  /** the member the answering one follows (its own id when it leads); null without a leader */
  leader: string | null;
  raftTerm: number;
  revision: number;
}

/** POST /v3/maintenance/status */
export function parseStatus(body: unknown): EtcdStatus {
  const b = body as { header?: { member_id?: string; revision?: string }; version?: string; leader?: string; raftTerm?: string };
  return {
    version: b?.version ?? '',
    memberId: b?.header?.member_id ?? '',
    leader: b?.leader && b.leader !== '0' ? b.leader : null,
    raftTerm: int(b?.raftTerm),
    revision: int(b?.header?.revision),
  };
}

export interface EtcdMemberInfo {
  id: string;
  /** empty while an added member has not started yet */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  /** a learner follows the log without voting (it does not count towards the quorum) */
  learner: boolean;
}

/** POST /v3/cluster/member/list */
export function parseMembers(body: unknown): EtcdMemberInfo[] {
  type RawMember = { ID?: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean };
  const members = (body as { members?: RawMember[] })?.members ?? [];
  return members.map((m) => ({
    id: m.ID ?? '',
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    clientUrls: m.clientURLs ?? [],
    learner: m.isLearner === true,
  }));
}

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** the new value ('' for a delete) */
  value: string;
  /** the value before, where the watch asked for it */
  previous: string | null;
  modRevision: number;
}

/** The body that watches every key under `prefix` from `fromRevision` (0: from now), with previous values. */
export function watchRequest(prefix: string, fromRevision = 0): Record<string, unknown> {
  const create: Record<string, unknown> = { key: b64(prefix), range_end: prefixEnd(prefix), prev_kv: true };
  if (fromRevision > 0) create.start_revision = String(fromRevision);
  return { create_request: create };
}

/** One line of a watch stream: its events, the revision it speaks of, and whether it is the
 * acknowledgement (created) or the end (canceled, with the reason). */
export function parseWatchLine(line: string): { created: boolean; canceled: string | null; revision: number; events: WatchEvent[] } {
  const r = (JSON.parse(line) as { result?: Record<string, unknown> }).result;
  if (!r) throw new Error(`etcd watch stream: ${line.slice(0, 200)}`);
  const header = r.header as { revision?: string } | undefined;
  const events = ((r.events as { type?: string; kv?: RawKv; prev_kv?: RawKv }[] | undefined) ?? []).map((e) => {
    const kv = keyValue(e.kv ?? {});
    return {
      type: e.type === 'DELETE' ? ('delete' as const) : ('put' as const),
      key: kv.key,
      value: kv.value,
      previous: e.prev_kv ? keyValue(e.prev_kv).value : null,
      modRevision: kv.modRevision,
    };
  });
  const canceled = r.canceled ? String(r.cancel_reason ?? 'canceled') : null;
  return { created: r.created === true, canceled, revision: int(header?.revision), events };
}

/** POST /v3/cluster/member/add -> the new member's id and the whole list (the new one without a
 * name until it starts). */
export function parseMemberAdd(body: unknown): { id: string; members: EtcdMemberInfo[] } {
  const id = (body as { member?: { ID?: string } })?.member?.ID;
  if (!id) throw new Error(`etcd added no member: ${JSON.stringify(body)}`);
  return { id, members: parseMembers(body) };
}
