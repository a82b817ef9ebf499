// Slows down token guessing: each client gets `limit` failed attempts per window; past that every
// mutation from it is refused with 429 until the window ends, even with the right token.
export class FailureLimiter {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(limit: number, windowMs = 60_000, now: () => number = Date.now) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.now = now;
  }

  /** Seconds the client must wait, or 0 when it may try. */
  retryAfter(client: string): number {
    const entry = this.failures.get(client);
    if (!entry) return 0;
    const elapsed = this.now() - entry.windowStart;
    if (elapsed >= this.windowMs) {
      this.failures.delete(client);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil((this.windowMs - elapsed) / 1000) : 0;
  }

  recordFailure(client: string): void {
    const now = this.now();
    const entry = this.failures.get(client);
    if (!entry || now - entry.windowStart >= this.windowMs) this.failures.set(client, { count: 1, windowStart: now });
    else entry.count++;
    // Bound memory against a flood of distinct addresses: forget the oldest entries.
    if (this.failures.size > 10_000) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  get totalTracked(): number {
    return this.failures.size;
  }
}
