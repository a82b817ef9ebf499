// What the one LED says, and how. Pure: which mode the station is in, and the blink pattern for it.
// Patterns are chosen to be told apart across a room: solid (ok), slow blink (booting), double
// blink (degraded), fast blink (pairing: "press now on your phone"), long on / short off (hotspot).

export type LedMode = 'booting' | 'ok' | 'degraded' | 'pairing' | 'hotspot';

/** One period of the pattern: [level, milliseconds] steps, repeated. */
export type LedPattern = readonly (readonly [0 | 1, number])[];

export const LED_PATTERNS: Readonly<Record<LedMode, LedPattern>> = {
  booting: [
    [1, 500],
    [0, 500],
  ],
  ok: [[1, 1000]],
  degraded: [
    [1, 150],
    [0, 150],
    [1, 150],
    [0, 1050],
  ],
  pairing: [
    [1, 100],
    [0, 100],
  ],
  hotspot: [
    [1, 1500],
    [0, 500],
  ],
};

export interface LedInputs {
  started: boolean;
  health: 'ok' | 'degraded' | 'starting';
  pairingOpen: boolean;
  hotspot: boolean;
}

/** Most urgent first: a person pressing the button must see the window; then how to get online. */
export function chooseLedMode(inputs: LedInputs): LedMode {
  if (inputs.pairingOpen) return 'pairing';
  if (inputs.hotspot) return 'hotspot';
  if (!inputs.started || inputs.health === 'starting') return 'booting';
  return inputs.health === 'degraded' ? 'degraded' : 'ok';
}

/** The LED level `elapsedMs` into a pattern (pure), and ms until it next changes. */
export function levelAt(pattern: LedPattern, elapsedMs: number): { level: 0 | 1; nextChangeMs: number } {
  const period = pattern.reduce((sum, [, ms]) => sum + ms, 0);
  let t = ((elapsedMs % period) + period) % period;
  for (let i = 0; i < pattern.length; i++) {
    const [level, ms] = pattern[i]!;
    if (t < ms) {
      // Steps with the same level back to back (or a one-step pattern) do not change the LED.
      let next = ms - t;
      for (let j = 1; j < pattern.length && pattern[(i + j) % pattern.length]![0] === level; j++) next += pattern[(i + j) % pattern.length]![1];
      return { level, nextChangeMs: pattern.length === 1 ? Infinity : next };
    }
    t -= ms;
  }
  return { level: pattern[0]![0], nextChangeMs: Infinity };
}
