// GET /status: one small document with the station's name, health, subsystems and summaries.
// Built from cached state only (it is the most-read route), never by running programs.
import { AGENT_VERSION } from './version.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { HealthState, Subsystem } from './subsystem.ts';
import type { HardwareReport } from '../hardware/report.ts';

interface StatusSource {
  config: { name: string; domain: string };
  subsystems: Subsystem[];
  isStarted: boolean;
  isDisabled(name: string): boolean;
  hardware: { report(): HardwareReport | undefined };
}

export interface StationStatus {
  name: string;
  version: string;
  domain: string;
  startedAt: string;
  uptimeSeconds: number;
  ready: boolean;
  health: 'ok' | 'degraded' | 'starting';
  subsystems: { name: string; state: HealthState; reason?: string }[];
  hardware: { model: string; arch: string; cpuCores: number; memoryBytes: number; detectedAt: string; unavailable: string[] } | null;
  summaries: Record<string, Record<string, unknown>>;
}

export class StatusService {
  private readonly source: StatusSource;
  private readonly startedAt = new Date();
  private cached: { json: string; second: number } | undefined;

  constructor(source: StatusSource) {
    this.source = source;
  }

  /** Forget the cached document; called on every station event, so a change shows at once. */
  invalidate(): void {
    this.cached = undefined;
  }

  /**
   * The status as JSON text. /status is the most-read route (pages, monitors, peers): the document is
   * serialized once and reused until an event says something changed or the uptime second ticks.
   */
  statusJson(): string {
    const second = Math.floor(Date.now() / 1000);
    if (!this.cached || this.cached.second !== second) this.cached = { json: JSON.stringify(this.status()), second };
    return this.cached.json;
  }

  status(): StationStatus {
    const subsystems = this.source.subsystems.map((s) =>
      this.source.isDisabled(s.name)
        ? { name: s.name, state: 'off' as const, reason: 'disabled by configuration (STATION_DISABLE)' }
        : { name: s.name, ...s.health() },
    );
    const report = this.source.hardware.report();
    const summaries: Record<string, Record<string, unknown>> = {};
    for (const s of this.source.subsystems) if (s.summary && !this.source.isDisabled(s.name)) summaries[s.name] = s.summary();
    const health = !this.source.isStarted ? 'starting' : subsystems.some((s) => s.state === 'degraded') ? 'degraded' : 'ok';
    return {
      name: this.source.config.name,
      version: AGENT_VERSION,
      domain: this.source.config.domain,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      ready: this.source.isStarted,
      health,
      subsystems,
      hardware: report
        ? {
            model: report.board.model,
            arch: report.os.arch,
            cpuCores: report.cpu.cores,
            memoryBytes: report.memory.totalBytes,
            detectedAt: report.detectedAt,
            unavailable: report.capabilities.filter((c) => !c.available).map((c) => c.id),
          }
        : null,
      summaries,
    };
  }

  registerMetrics(metrics: MetricsRegistry): void {
    metrics.register(() => [
      {
        name: 'station_info',
        help: 'station identity',
        type: 'gauge',
        value: 1,
        labels: { name: this.source.config.name, version: AGENT_VERSION },
      },
      {
        name: 'station_uptime_seconds',
        help: 'seconds since the agent started',
        type: 'gauge',
        value: (Date.now() - this.startedAt.getTime()) / 1000,
      },
      { name: 'process_resident_memory_bytes', help: 'resident memory of the agent', type: 'gauge', value: process.memoryUsage.rss() },
      ...this.source.subsystems.map((s) => ({
        name: 'station_subsystem_up',
        help: '1 when the subsystem is ok',
        type: 'gauge' as const,
        value: !this.source.isDisabled(s.name) && s.health().state === 'ok' ? 1 : 0,
        labels: { subsystem: s.name },
      })),
    ]);
  }
}
