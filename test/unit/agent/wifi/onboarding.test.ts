import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { initialOnboarding, stepOnboarding, type OnboardingInput, type OnboardingState, type OnboardingAction } from '../../../../agent/wifi/onboarding.ts';

const T = { bootGraceMs: 30_000, lostMs: 120_000, retryMs: 60_000, connectTimeoutMs: 45_000 };
const observe = (now: number, connected: boolean, savedInRange = false, hasSaved = true, uplink = false): OnboardingInput => ({
  type: 'observe',
  now,
  connected: connected || uplink,
  uplink,
  hasSaved,
  savedInRange,
});
/** A station with another way out (a cable, a default route): connected, and not through its Wi-Fi. */
const wired = (now: number, yes = true): OnboardingInput => observe(now, yes, false, true, yes);

function run(inputs: OnboardingInput[], start = initialOnboarding(0)): { state: OnboardingState; actions: OnboardingAction['type'][] } {
  let state = start;
  const actions: OnboardingAction['type'][] = [];
  for (const input of inputs) {
    const r = stepOnboarding(state, input, T);
    state = r.state;
    actions.push(...r.actions.map((a) => a.type));
  }
  return { state, actions };
}

test('a network up at boot: client, no hotspot', () => {
  const r = run([observe(5_000, true)]);
  assert.is(r.state.mode, 'client');
  assert.equal(r.actions, []);
});

test('nothing up at boot: the hotspot opens after the grace period, not before', () => {
  assert.is(run([observe(29_999, false)]).state.mode, 'waiting');
  const r = run([observe(10_000, false), observe(30_000, false)]);
  assert.is(r.state.mode, 'hotspot');
  assert.equal(r.actions, ['open-hotspot']);
});

test('the saved network gone for a while: hotspot; a short drop does nothing', () => {
  const client = run([observe(1_000, true)]).state;
  const blip = run([observe(10_000, false), observe(60_000, false), observe(70_000, true), observe(200_000, true)], client);
  assert.is(blip.state.mode, 'client');
  assert.equal(blip.actions, []);
  const gone = run([observe(10_000, false), observe(129_999, false), observe(130_000, false)], client);
  assert.is(gone.state.mode, 'hotspot');
  assert.equal(gone.actions, ['open-hotspot']);
});

test('back to the saved network when it returns, and back to the hotspot if it does not connect', () => {
  const hotspot = run([observe(30_000, false)]).state;
  assert.is(hotspot.mode, 'hotspot');
  const absent = run([observe(40_000, false, false)], hotspot);
  assert.is(absent.state.mode, 'hotspot');
  const back = run([observe(50_000, false, true)], hotspot);
  assert.is(back.state.mode, 'connecting');
  assert.equal(back.actions, ['close-hotspot', 'connect-saved']);
  const joined = run([observe(55_000, true)], back.state);
  assert.is(joined.state.mode, 'client');
  const failed = run([observe(95_000, false)], back.state);
  assert.is(failed.state.mode, 'hotspot');
  assert.equal(failed.actions, ['open-hotspot']);
  // ... and does not retry before retryMs has passed since the last try
  const early = run([observe(96_000, false, true)], failed.state);
  assert.is(early.state.mode, 'hotspot');
  const later = run([observe(95_000 + 60_000, false, true)], failed.state);
  assert.is(later.state.mode, 'connecting');
});

test('no saved network: the hotspot stays open', () => {
  const hotspot = run([observe(30_000, false, false, false)]).state;
  assert.is(run([observe(500_000, false, true, false)], hotspot).state.mode, 'hotspot');
});

test('a network picked on the captive page closes the hotspot and connects; failure reopens it', () => {
  const hotspot = run([observe(30_000, false)]).state;
  const chosen = stepOnboarding(hotspot, { type: 'chosen', now: 31_000, ssid: 'Home Net', password: 'correct horse' }, T);
  assert.is(chosen.state.mode, 'connecting');
  assert.equal(chosen.actions, [{ type: 'close-hotspot' }, { type: 'connect', ssid: 'Home Net', password: 'correct horse' }]);
  const failed = stepOnboarding(chosen.state, { type: 'connect-failed', now: 32_000 }, T);
  assert.is(failed.state.mode, 'hotspot');
  assert.equal(failed.actions, [{ type: 'open-hotspot' }]);
});

test('reset forgets everything and opens the hotspot from any mode', () => {
  const client = run([observe(1_000, true)]).state;
  const r = stepOnboarding(client, { type: 'reset', now: 2_000 }, T);
  assert.is(r.state.mode, 'hotspot');
  assert.equal(
    r.actions.map((a) => a.type),
    ['forget-all', 'open-hotspot'],
  );
});

test('a wired station with a radio never opens the hotspot: not at boot, not after a long time, not on reset or a failed join', () => {
  const inputs: OnboardingInput[] = [wired(0), wired(30_000), wired(200_000), wired(3_600_000)];
  const r = run(inputs);
  assert.is(r.state.mode, 'client');
  assert.equal(r.actions, []);
  const reset = stepOnboarding(r.state, { type: 'reset', now: 3_700_000 }, T);
  assert.equal(
    reset.actions.map((a) => a.type),
    ['forget-all'],
    'the saved Wi-Fi networks go; no hotspot opens',
  );
  assert.is(reset.state.mode, 'client');
  const chosen = stepOnboarding(reset.state, { type: 'chosen', now: 3_800_000, ssid: 'Home Net', password: 'correct horse' }, T);
  const failed = stepOnboarding(chosen.state, { type: 'connect-failed', now: 3_801_000 }, T);
  assert.equal(failed.actions, []);
  assert.is(failed.state.mode, 'client');
  const timedOut = run([wired(3_900_000)], chosen.state);
  assert.equal(timedOut.actions, []);
});

test('the cable goes: the hotspot opens after the usual wait; it comes back: the hotspot closes', () => {
  const client = run([wired(0)]).state;
  const unplugged = run([wired(10_000, false), wired(129_999, false), wired(130_000, false)], client);
  assert.is(unplugged.state.mode, 'hotspot');
  assert.equal(unplugged.actions, ['open-hotspot']);
  const plugged = run([wired(140_000)], unplugged.state);
  assert.is(plugged.state.mode, 'client');
  assert.equal(plugged.actions, ['close-hotspot']);
});

test.run();
