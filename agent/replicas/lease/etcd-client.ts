// A small client of etcd's v3 JSON gateway over HTTP (no gRPC library: the agent needs leases, one
// transaction, reads and a watch). Every call has a deadline: a member cut off from its quorum may
// hold a request until etcd's own timeout, and the lease code must know in time that it did not renew.
// Several endpoints: the first that answers serves, and the last good one is tried first next time.
import { UnavailableError } from '../../errors.ts';
import {
  b64,
  type CreateResult,
  createIfAbsent,
  type EtcdMemberInfo,
  type EtcdStatus,
  gatewayError,
  headerRevision,
  type KeyValue,
  parseCreate,
  parseGrant,
  parseKeepAlive,
  parseMemberAdd,
  parseMembers,
  parseRange,
  parseStatus,
  parseWatchLine,
  prefixEnd,
  type WatchEvent,
  watchRequest,
} from './etcd-gateway.ts';

/** No member answered in time (or the cluster has no quorum): the station's 503 kind. */
export class EtcdUnavailableError extends UnavailableError {
  constructor(message: string) {
    super('LEASE_STORE_UNAVAILABLE', message);
    this.name = 'EtcdUnavailableError';
  }
}

export interface EtcdClientOptions {
  /** http://ADDRESS:PORT of members, the station's own first */
  endpoints: string[];
  /** each request's deadline (default 2 s) */
  timeoutMs?: number;
}

export class EtcdClient {
  private readonly endpoints: string[];
  private readonly timeoutMs: number;
  private preferred = 0;

  constructor(options: EtcdClientOptions) {
    if (!options.endpoints.length) throw new Error('an etcd client needs at least one endpoint');
    this.endpoints = [...options.endpoints];
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** The member asked first (this station's own, where it runs one). */
  get endpoint(): string {
    return this.endpoints[0]!;
  }

  /** A lease of `ttlSeconds`; its id. */
  async grant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    return parseGrant(await this.call('/v3/lease/grant', { TTL: String(ttlSeconds) }));
  }

  /** Renews a lease: the TTL it has again, or null when it is gone. */
  async keepAlive(id: string): Promise<number | null> {
    return parseKeepAlive(await this.call('/v3/lease/keepalive', { ID: id }));
  }

  async revoke(id: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: id });
  }

  /** Puts key = value on the lease where the key does not exist (one transaction). */
  async createIfAbsent(key: string, value: string, lease: string): Promise<CreateResult> {
    return parseCreate(await this.call('/v3/kv/txn', createIfAbsent(key, value, lease)));
  }

  /** Deletes `key` only while it still has this create revision (ours, not a successor's). */
  async deleteIfCreatedAt(key: string, createRevision: number): Promise<boolean> {
    const k = b64(key);
    const body = await this.call('/v3/kv/txn', {
      compare: [{ key: k, target: 'CREATE', create_revision: String(createRevision) }],
      success: [{ request_delete_range: { key: k } }],
    });
    return (body as { succeeded?: boolean }).succeeded === true;
  }

  /** A key (read with quorum), or null. */
  async get(key: string): Promise<KeyValue | null> {
    return parseRange(await this.call('/v3/kv/range', { key: b64(key) }))[0] ?? null;
  }

  /** Every key under `prefix`, and the revision they were read at. */
  async getPrefix(prefix: string): Promise<{ kvs: KeyValue[]; revision: number }> {
    const body = await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
    return { kvs: parseRange(body), revision: headerRevision(body) };
  }

  async put(key: string, value: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  async delete(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  /** Puts key = value for `ttlSeconds` (on a lease of its own, which nobody renews). */
  async putForAWhile(key: string, value: string, ttlSeconds: number): Promise<void> {
    const lease = await this.grant(ttlSeconds);
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value), lease: lease.id });
  }

  /** The status of one member (the endpoint given), not of whichever answers first. */
  async status(endpoint: string): Promise<EtcdStatus> {
    return parseStatus(await this.post(endpoint, '/v3/maintenance/status', {}));
  }

  async members(): Promise<EtcdMemberInfo[]> {
    return parseMembers(await this.call('/v3/cluster/member/list', {}));
  }

  /**
   * Adds a member that will listen at `peerUrl`. A voter counts towards the quorum from now, before
   * it runs (a one-member cluster stops taking writes until it starts); a learner does not, and
   * votes only once promoted, which etcd allows when it has caught up with the leader.
   */
  async addMember(peerUrl: string, options: { learner?: boolean } = {}): Promise<{ id: string; members: EtcdMemberInfo[] }> {
    return parseMemberAdd(await this.call('/v3/cluster/member/add', { peerURLs: [peerUrl], ...(options.learner ? { isLearner: true } : {}) }));
  }

  /** A learner becomes a voter (refused until it is in sync with the leader: try again later). */
  async promoteMember(id: string): Promise<void> {
    await this.call('/v3/cluster/member/promote', { ID: id });
  }

  async removeMember(id: string): Promise<void> {
    await this.call('/v3/cluster/member/remove', { ID: id });
  }

  /**
   * Follows every change under `prefix` until `signal` aborts or the stream ends (then it resolves;
   * the caller decides whether to watch again, from the last revision it saw + 1).
   */
  async watch(prefix: string, fromRevision: number, onEvents: (events: WatchEvent[], revision: number) => void, signal: AbortSignal): Promise<void> {
    const endpoint = this.endpoints[this.preferred]!;
    const response = await fetch(`${endpoint}/v3/watch`, { method: 'POST', body: JSON.stringify(watchRequest(prefix, fromRevision)), signal });
    if (!response.ok || !response.body) throw new EtcdUnavailableError(`${endpoint}: the watch was refused (${response.status})`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const parsed = parseWatchLine(line);
          if (parsed.canceled) throw new EtcdUnavailableError(`${endpoint}: the watch was canceled (${parsed.canceled})`);
          if (parsed.events.length) onEvents(parsed.events, parsed.revision);
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  private async call(path: string, body: unknown): Promise<unknown> {
    const failures: string[] = [];
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      try {
        const answer = await this.post(this.endpoints[index]!, path, body);
        this.preferred = index;
        return answer;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    throw new EtcdUnavailableError(`no etcd member answered ${path}: ${failures.join('; ')}`);
  }

  private async post(endpoint: string, path: string, body: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new EtcdUnavailableError(
        `${endpoint}: ${(error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (cause ?? (error as Error).message)}`,
      );
    }
    const answer = (await response.json().catch(() => null)) as unknown;
    const problem = gatewayError(answer);
    if (!response.ok || (problem && !(answer as { result?: unknown })?.result)) {
      throw new EtcdUnavailableError(`${endpoint}: ${problem ?? `HTTP ${response.status}`}`);
    }
    return answer;
  }
}
