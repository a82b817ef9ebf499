// Plays LED patterns on an output line: one timer, rescheduled at each change of level, so the
// line is written only when the level actually changes.
import type { OutputLine } from '../../hardware/gpio/lines.ts';
import { LED_PATTERNS, levelAt, type LedMode } from './led-patterns.ts';

export class LedPlayer {
  private readonly line: OutputLine;
  private readonly now: () => number;
  private mode: LedMode | undefined;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastLevel: 0 | 1 | undefined;

  constructor(line: OutputLine, now: () => number = Date.now) {
    this.line = line;
    this.now = now;
  }

  get current(): LedMode | undefined {
    return this.mode;
  }

  show(mode: LedMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.startedAt = this.now();
    this.step();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.mode = undefined;
    await this.line.write(0).catch(() => undefined);
  }

  private step(): void {
    clearTimeout(this.timer);
    if (!this.mode) return;
    const { level, nextChangeMs } = levelAt(LED_PATTERNS[this.mode], this.now() - this.startedAt);
    if (level !== this.lastLevel) {
      this.lastLevel = level;
      void this.line.write(level).catch(() => undefined);
    }
    if (Number.isFinite(nextChangeMs)) {
      this.timer = setTimeout(() => this.step(), nextChangeMs);
      this.timer.unref();
    }
  }
}
