// The link button's presses, told apart (pure; the caller feeds edges and the time). A short press
// (50 ms up to 10 s) opens the pairing window on release; holding for 10 s resets the network
// settings at the 10 s mark, while still held, so the person sees the LED answer and can let go.
// Bounces shorter than 50 ms are ignored.

export type ButtonAction = 'pair' | 'reset-network';

export interface ButtonTimings {
  minPressMs: number;
  longPressMs: number;
}
export const DEFAULT_BUTTON_TIMINGS: ButtonTimings = { minPressMs: 50, longPressMs: 10_000 };

export interface ButtonState {
  pressedAt: number | null;
  longFired: boolean;
}
export const RELEASED: ButtonState = { pressedAt: null, longFired: false };

/** A level change: `pressed` is the logical state (active-low wiring already undone). */
export function onButtonEdge(
  state: ButtonState,
  pressed: boolean,
  now: number,
  t: ButtonTimings = DEFAULT_BUTTON_TIMINGS,
): { state: ButtonState; action?: ButtonAction } {
  if (pressed) return state.pressedAt === null ? { state: { pressedAt: now, longFired: false } } : { state };
  if (state.pressedAt === null) return { state };
  const held = now - state.pressedAt;
  if (state.longFired) return { state: RELEASED };
  if (held >= t.longPressMs) return { state: RELEASED, action: 'reset-network' };
  if (held >= t.minPressMs) return { state: RELEASED, action: 'pair' };
  return { state: RELEASED };
}

/** Called on a timer while held: fires the long press once the button has been down long enough. */
export function onButtonTick(state: ButtonState, now: number, t: ButtonTimings = DEFAULT_BUTTON_TIMINGS): { state: ButtonState; action?: ButtonAction } {
  if (state.pressedAt === null || state.longFired || now - state.pressedAt < t.longPressMs) return { state };
  return { state: { ...state, longFired: true }, action: 'reset-network' };
}
