// The background work of a disk part (snapshots, copies): a tick on a timer that never keeps the
// agent alive, and the tasks the tick and the part's callers start, which stop() waits for so none
// runs on into a stopped part (its mounts, its state files).
export class PartWork {
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Set<Promise<unknown>>();

  /** Calls `tick` every `ms` until stop(). */
  every(ms: number, tick: () => void): void {
    this.timer = setInterval(tick, ms);
    this.timer.unref();
  }

  /** Counts `work` as running until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    work.finally(() => this.running.delete(work)).catch(() => undefined);
    return work;
  }

  /** No more ticks; resolves once every task it tracks has settled (failed ones too). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.running]);
  }
}
