// Who runs the nodes on this station. Under balena's hand-over strategy the old and the new agent
// (two containers of the same service) run side by side for a while and share the state volume;
// only one of them may drive the nodes. The owner keeps a lease file on that volume fresh; on stop
// it stops its nodes and marks the lease released, and the waiting agent then takes over.
// Containers do not share pid namespaces, so liveness is a heartbeat, not a pid check.
import { readFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../store/atomic-file.ts';

export interface Lease {
  instance: string;
  version: string;
  heartbeatAt: number;
  released: boolean;
}

export const HEARTBEAT_MS = 1000;
/** A lease not renewed for this long belongs to an agent that is gone (killed, crashed). */
export const STALE_MS = 5000;

/** Pure: may `instance` take the nodes, given the lease on disk (or none) at time `now`? */
export function leaseIsFree(lease: Lease | null, instance: string, now: number): boolean {
  if (!lease) return true;
  if (lease.instance === instance) return true;
  return lease.released || now - lease.heartbeatAt > STALE_MS;
}

/** Pure: a lease whose holder is not `instance` and still alive. */
export function otherLiveHolder(lease: Lease | null, instance: string, now: number): string | null {
  return lease && !leaseIsFree(lease, instance, now) ? lease.instance : null;
}

export class OwnerLease {
  readonly file: string;
  readonly instance: string;
  private readonly version: string;
  private timer: NodeJS.Timeout | undefined;
  private owned = false;

  constructor(file: string, instance: string, version: string) {
    this.file = file;
    this.instance = instance;
    this.version = version;
  }

  get isOwner(): boolean {
    return this.owned;
  }

  async read(): Promise<Lease | null> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Lease;
    } catch {
      return null; // none yet, or cut short: treated as free
    }
  }

  /** Waits until the lease is free, then takes it and keeps it fresh. Returns ms waited. */
  async acquire(options: { pollMs?: number; signal?: AbortSignal } = {}): Promise<number> {
    const started = Date.now();
    while (!leaseIsFree(await this.read(), this.instance, Date.now())) {
      if (options.signal?.aborted) throw new Error('stopped while waiting for the node lease');
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
    await mkdir(dirname(this.file), { recursive: true });
    this.owned = true;
    await this.write(false);
    this.timer = setInterval(() => void this.write(false).catch(() => undefined), HEARTBEAT_MS);
    this.timer.unref();
    return Date.now() - started;
  }

  /** Gives the nodes up: the next agent may take them at once. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.owned) return;
    this.owned = false;
    await this.write(true);
  }

  private async write(released: boolean): Promise<void> {
    const lease: Lease = { instance: this.instance, version: this.version, heartbeatAt: Date.now(), released };
    await writeFileAtomic(this.file, `${JSON.stringify(lease)}\n`, 0o600);
  }
}
