// Wraps hardware detection as a subsystem: detection starts with the agent, runs in the
// background, and announces each new report on the event bus.
import { HardwareDetector } from '../hardware/detector.ts';
import { linuxHost } from '../hardware/host.ts';
import type { HardwareReport } from '../hardware/report.ts';
import type { Subsystem, SubsystemHealth } from './subsystem.ts';
import type { EventBus } from './events.ts';
import type { Logger } from './log.ts';
import type { Runner } from './exec.ts';

/**
 * How long one probe program (and the reader child, whose readings have their own 30 s budgets)
 * may run. A PC answers in well under a second; an emulated or busy Raspberry Pi has been seen to
 * need more than 10 s for the reader alone.
 */
const PROBE_TIMEOUT_MS = 90_000;

export class HardwareSubsystem implements Subsystem {
  readonly name = 'hardware';
  private readonly detector: HardwareDetector;
  private lastError: string | undefined;

  constructor(deps: { run: Runner; events: EventBus; log: Logger; nodePath: string; refreshSeconds: number }) {
    this.detector = new HardwareDetector({
      host: linuxHost((argv) => deps.run(argv, { allowFailure: true, timeoutMs: PROBE_TIMEOUT_MS })),
      nodePath: deps.nodePath,
      refreshMs: deps.refreshSeconds * 1000,
      onReport: (report) => {
        this.lastError = undefined;
        deps.events.publish('hardware.updated', {
          detectedAt: report.detectedAt,
          unavailable: report.capabilities.filter((c) => !c.available).map((c) => c.id),
        });
      },
      onError: (error) => {
        this.lastError = error.message;
        deps.log.warn({ err: error }, 'hardware detection failed');
      },
    });
  }

  async start(): Promise<void> {
    this.detector.start();
  }

  async stop(): Promise<void> {
    this.detector.stop();
  }

  report(): HardwareReport | undefined {
    return this.detector.current();
  }

  refresh(): Promise<HardwareReport | undefined> {
    return this.detector.refresh();
  }

  /** Why there is no report yet: detection still running, or the last one failed. */
  pendingReason(): string {
    return this.lastError ? `hardware detection failed (${this.lastError}); it is tried again` : 'hardware detection is still running';
  }

  health(): SubsystemHealth {
    if (this.lastError) return { state: 'degraded', reason: `hardware detection failed: ${this.lastError}` };
    const partial = this.detector.current()?.partialReasons ?? [];
    if (partial.length) return { state: 'ok', reason: `partial report: ${partial.join('; ')}` };
    return this.detector.current() ? { state: 'ok' } : { state: 'starting', reason: 'detecting hardware' };
  }
}
