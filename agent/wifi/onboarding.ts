// When to open the setup hotspot and when to go back to the saved network: a pure state machine
// driven by observations and an injected time, so every path is unit-tested without a radio.
//   waiting  (boot)  connected -> client;   nothing up for bootGraceMs -> hotspot
//   client           link lost for lostMs (the saved network gone "for a while") -> hotspot
//   hotspot          a saved network is in range again (checked every retryMs) -> connecting
//   connecting       connected -> client;   not within connectTimeoutMs, or failed -> hotspot
//   any              the person picks a network (captive page / API) -> connecting
//   any              reset (10 s button press) -> forget everything, hotspot
// and above all of these: a station with another way out (a connected NetworkManager device other than
// the onboarding radio, ethernet included, or a default route) never opens the hotspot, and closes it
// when such a way out appears. A wired box with an idle radio must not offer its LAN over the air.

export type WifiMode = 'waiting' | 'client' | 'hotspot' | 'connecting';

export interface OnboardingTimings {
  bootGraceMs: number;
  lostMs: number;
  retryMs: number;
  connectTimeoutMs: number;
}

export interface OnboardingState {
  mode: WifiMode;
  since: number;
  lostSince: number | null;
  lastTry: number | null;
  /** the last observation saw another way out than the onboarding radio */
  uplink: boolean;
}

export type OnboardingInput =
  // connected: any way out, the radio's own client connection included; uplink: another way out
  | { type: 'observe'; now: number; connected: boolean; uplink: boolean; hasSaved: boolean; savedInRange: boolean }
  | { type: 'chosen'; now: number; ssid: string; password?: string }
  | { type: 'connect-failed'; now: number }
  | { type: 'reset'; now: number };

export type OnboardingAction =
  | { type: 'open-hotspot' }
  | { type: 'close-hotspot' }
  | { type: 'connect-saved' }
  | { type: 'connect'; ssid: string; password?: string }
  | { type: 'forget-all' };

export const initialOnboarding = (now: number): OnboardingState => ({
  mode: 'waiting',
  since: now,
  lostSince: null,
  lastTry: null,
  uplink: false,
});

type Step = { state: OnboardingState; actions: OnboardingAction[] };

export function stepOnboarding(s: OnboardingState, input: OnboardingInput, t: OnboardingTimings): Step {
  const seen = input.type === 'observe' ? { ...s, uplink: input.uplink } : s;
  const next = step(seen, input, t);
  if (!next.state.uplink || next.state.mode !== 'hotspot') return next;
  // Another way out: whatever the step wanted, no hotspot (and close one that was open).
  const actions = next.actions.filter((a) => a.type !== 'open-hotspot');
  if (s.mode === 'hotspot' && !actions.some((a) => a.type === 'close-hotspot')) actions.unshift({ type: 'close-hotspot' });
  return { state: { mode: 'client', since: input.now, lostSince: null, lastTry: next.state.lastTry, uplink: true }, actions };
}

function step(s: OnboardingState, input: OnboardingInput, t: OnboardingTimings): Step {
  const { now } = input;
  const to = (mode: WifiMode, at: number, rest: Partial<OnboardingState> = {}): OnboardingState => ({
    mode,
    since: at,
    lostSince: null,
    lastTry: null,
    uplink: s.uplink,
    ...rest,
  });
  switch (input.type) {
    case 'reset':
      return { state: to('hotspot', now), actions: [{ type: 'forget-all' }, { type: 'open-hotspot' }] };
    case 'chosen': {
      const actions: OnboardingAction[] = s.mode === 'hotspot' ? [{ type: 'close-hotspot' }] : [];
      actions.push(input.password ? { type: 'connect', ssid: input.ssid, password: input.password } : { type: 'connect', ssid: input.ssid });
      return { state: to('connecting', now, { lastTry: now }), actions };
    }
    case 'connect-failed':
      return s.mode === 'connecting' ? { state: to('hotspot', now, { lastTry: now }), actions: [{ type: 'open-hotspot' }] } : { state: s, actions: [] };
    case 'observe':
      break;
  }
  switch (s.mode) {
    case 'waiting':
      if (input.connected) return { state: to('client', now), actions: [] };
      if (now - s.since >= t.bootGraceMs) return { state: to('hotspot', now), actions: [{ type: 'open-hotspot' }] };
      return { state: s, actions: [] };
    case 'client':
      if (input.connected) return { state: s.lostSince === null ? s : { ...s, lostSince: null }, actions: [] };
      if (s.lostSince === null) return { state: { ...s, lostSince: now }, actions: [] };
      if (now - s.lostSince >= t.lostMs) return { state: to('hotspot', now), actions: [{ type: 'open-hotspot' }] };
      return { state: s, actions: [] };
    case 'hotspot':
      if (input.uplink) return { state: to('client', now), actions: [{ type: 'close-hotspot' }] };
      if (input.hasSaved && input.savedInRange && (s.lastTry === null || now - s.lastTry >= t.retryMs)) {
        return { state: to('connecting', now, { lastTry: now }), actions: [{ type: 'close-hotspot' }, { type: 'connect-saved' }] };
      }
      return { state: s, actions: [] };
    case 'connecting':
      if (input.connected) return { state: to('client', now), actions: [] };
      if (now - s.since >= t.connectTimeoutMs) return { state: to('hotspot', now, { lastTry: now }), actions: [{ type: 'open-hotspot' }] };
      return { state: s, actions: [] };
  }
}
