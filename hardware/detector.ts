// Runs detection in the background and keeps the last report. Readiness never waits for it:
// callers get `undefined` until the first detection finishes, then the cached report.
import { buildHardwareReport, type HardwareReport } from './report.ts';
import { probeCapabilities } from './capabilities.ts';
import { readRawInChild } from './raw-reader.ts';
import type { HostAccess } from './host.ts';

export interface DetectorOptions {
  host: HostAccess;
  nodePath: string;
  refreshMs: number;
  onReport?: (report: HardwareReport) => void;
  onError?: (error: Error) => void;
}

export class HardwareDetector {
  private readonly options: DetectorOptions;
  private report: HardwareReport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<HardwareReport | undefined> | undefined;

  constructor(options: DetectorOptions) {
    this.options = options;
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  current(): HardwareReport | undefined {
    return this.report;
  }

  /** Detect now (joins a detection already under way). */
  refresh(): Promise<HardwareReport | undefined> {
    this.running ??= (async () => {
      try {
        const [raw, capabilities] = await Promise.all([
          readRawInChild(this.options.host.run),
          probeCapabilities({ host: this.options.host, nodePath: this.options.nodePath }),
        ]);
        this.report = buildHardwareReport(raw, capabilities);
        this.options.onReport?.(this.report);
        return this.report;
      } catch (error) {
        this.options.onError?.(error as Error);
        return this.report;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
