// Nodes whose last change failed, and when the reconcile loop may try each again (the disk copies
// keep their peers' failed grants in a RetryBook of their own, with a longer base). The first failure
// is retried by the next pass (it is often a race with someone changing the container at the same
// moment); after that the pause doubles from a base (5 s by default: half a reconcile period) up to
// 5 min, so a build that keeps failing (a full disk, a package that does not exist) does not spin
// the loop, and a success clears the streak.

export const RETRY_BASE_MS = 5_000;
export const RETRY_MAX_MS = 300_000;

/** Why a node's last change failed, how often in a row, and when the reconcile loop tries it again. */
export interface NodeRetry {
  message: string;
  failures: number;
  failedAt: string;
  retryAt: string;
}

interface Failure {
  message: string;
  failures: number;
  failedAt: number;
  retryAt: number;
}

/** The pause after the `failures`-th failure in a row. */
export function retryDelayMs(failures: number, baseMs = RETRY_BASE_MS): number {
  return failures <= 1 ? 0 : Math.min(RETRY_MAX_MS, baseMs * 2 ** (failures - 2));
}

export class RetryBook {
  private readonly failures = new Map<string, Failure>();
  private readonly baseMs: number;

  constructor(baseMs = RETRY_BASE_MS) {
    this.baseMs = baseMs;
  }

  failed(name: string, message: string, now = Date.now()): void {
    const failures = (this.failures.get(name)?.failures ?? 0) + 1;
    this.failures.set(name, { message, failures, failedAt: now, retryAt: now + retryDelayMs(failures, this.baseMs) });
  }

  clear(name: string): void {
    this.failures.delete(name);
  }

  /** False while the node waits out its pause. */
  due(name: string, now = Date.now()): boolean {
    const failure = this.failures.get(name);
    return !failure || now >= failure.retryAt;
  }

  message(name: string): string | null {
    return this.failures.get(name)?.message ?? null;
  }

  get(name: string): NodeRetry | null {
    const f = this.failures.get(name);
    if (!f) return null;
    return {
      message: f.message,
      failures: f.failures,
      failedAt: new Date(f.failedAt).toISOString(),
      retryAt: new Date(f.retryAt).toISOString(),
    };
  }

  /** "name: message" of every failing node (the subsystem's health reason). */
  list(): string[] {
    return [...this.failures.entries()].map(([name, f]) => `${name}: ${f.message}`);
  }
}
