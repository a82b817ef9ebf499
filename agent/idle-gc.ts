// Returns start-up and busy-period garbage to the system once the agent has gone quiet. With the
// agent's 1 MB young generation (agent/process-settings.ts) that garbage is promoted to the old
// generation, and V8's own memory reducer never runs while a station idles: it keeps judging the
// allocation rate by the last busy period. One collection after each busy period, never during one.
//
// NOT wired into agent/main.ts, on purpose. Measured with the status bench (2026-11-25, load 0.6):
// idle RSS 88 -> 81.5 MB, idle after the load 111 -> 91 MB, but status throughput 0.79 -> 0.62 of
// bare Fastify for the rest of the run. The cost is not in the collector's timing or GC frequency
// (same scavenge and mark-compact counts and GC time under load): a full collection while no
// request is in flight frees the maps of per-request objects (sockets, IncomingMessage,
// ServerResponse, Fastify's request/reply), which deoptimizes ~80 functions of the HTTP path
// ("embedded weak objects cleared"); the feedback they relearn is megamorphic (perf: time in
// Runtime_DefineKeyedOwnPropertyInLiteral, map transitions and migrations). A bare Fastify
// hello-world loses the same ~25% after one idle gc(), so this is V8's, not the agent's.
// Wiring it: count requests on `server.server.on('request')`, pass `collectAllGarbage`.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleCollectorOptions {
  /** how long nothing may happen before collecting */
  quietMs: number;
  /** how often to look */
  checkEveryMs: number;
  /** a count that grows with every request served (or any other work that should hold the collection off) */
  activity: () => number;
  collect: () => void;
  now?: () => number;
  /** runs `tick` every `checkEveryMs`; returns a stopper. The default uses an unref'd interval. */
  schedule?: (tick: () => void, everyMs: number) => () => void;
}

/**
 * Collects once when `activity` has not moved for `quietMs`: first after start-up, then again after
 * every later busy period. Never while the count moves, and not twice for the same quiet spell.
 */
export class IdleCollector {
  private lastCount = 0;
  private lastChangeAt = 0;
  /** something happened since the last collection (start-up counts as something) */
  private dirty = true;
  private stopTimer: (() => void) | undefined;
  collections = 0;
  private readonly options: IdleCollectorOptions;

  constructor(options: IdleCollectorOptions) {
    this.options = options;
  }

  start(): void {
    this.lastCount = this.options.activity();
    this.lastChangeAt = this.now();
    const schedule = this.options.schedule ?? ((tick, everyMs) => {
      const timer = setInterval(tick, everyMs);
      timer.unref(); // never what keeps the process alive
      return () => clearInterval(timer);
    });
    this.stopTimer = schedule(() => this.tick(), this.options.checkEveryMs);
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  /** One look: called by the schedule; public so tests drive it with their own clock. */
  tick(): void {
    const count = this.options.activity();
    const now = this.now();
    if (count !== this.lastCount) {
      this.lastCount = count;
      this.lastChangeAt = now;
      this.dirty = true;
      return;
    }
    if (!this.dirty || now - this.lastChangeAt < this.options.quietMs) return;
    this.dirty = false;
    this.collections++;
    this.options.collect();
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }
}

type GcFunction = (options?: { type?: 'major' | 'minor'; flavor?: 'regular' | 'last-resort' }) => void;

/**
 * A full, memory-reducing collection: compacts the old generation and returns freed pages. Blocks
 * the event loop once (~50 ms measured). gc() is reached through a context made while the flag is
 * set, then the flag is cleared: no other code sees gc().
 */
export function collectAllGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as GcFunction;
  setFlagsFromString('--no-expose-gc');
  gc({ type: 'major', flavor: 'last-resort' });
}
