// What a benchmark made, undone in reverse order when it ends (runBench tears down whether main
// succeeded, failed or was interrupted); a step that fails is logged and the others still run. A
// tear-down asked for while one runs (Ctrl-C while main fails) waits for that one: the process must
// not exit while a step is still removing things.
import { readFileSync } from 'node:fs';

export interface CleanupStep {
  what: string;
  run: () => Promise<void>;
}

export function cleanupSteps(log: (line: string) => void): { add(step: CleanupStep): void; tearDown(): Promise<void> } {
  const steps: CleanupStep[] = [];
  let running: Promise<void> | null = null;
  const undoAll = async () => {
    for (let step = steps.pop(); step; step = steps.pop()) await step.run().catch((error: Error) => log(`cleanup of ${step!.what} failed: ${error.message}`));
  };
  return {
    add: (step) => void steps.push(step),
    tearDown: () => {
      running ??= undoAll().finally(() => {
        running = null;
      });
      return running;
    },
  };
}

/** The machine's load average (1, 5, 15 min), said beside every figure: these machines are shared. */
export const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
