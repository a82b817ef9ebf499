import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onButtonEdge, onButtonTick, RELEASED, type ButtonState, type ButtonAction } from '../../../../agent/indicator/link-button.ts';

/** Replays [time, 'down'|'up'|'tick'] and collects the actions. */
function replay(steps: [number, 'down' | 'up' | 'tick'][]): ButtonAction[] {
  let state: ButtonState = RELEASED;
  const actions: ButtonAction[] = [];
  for (const [at, what] of steps) {
    const r = what === 'tick' ? onButtonTick(state, at) : onButtonEdge(state, what === 'down', at);
    state = r.state;
    if (r.action) actions.push(r.action);
  }
  return actions;
}

test('a short press opens pairing on release', () => {
  assert.equal(
    replay([
      [0, 'down'],
      [250, 'tick'],
      [300, 'up'],
    ]),
    ['pair'],
  );
});

test('a bounce shorter than 50 ms does nothing', () => {
  assert.equal(
    replay([
      [0, 'down'],
      [20, 'up'],
    ]),
    [],
  );
});

test('holding 10 s resets the network once, while still held, and the release adds nothing', () => {
  assert.equal(
    replay([
      [0, 'down'],
      [9_750, 'tick'],
      [10_000, 'tick'],
      [10_250, 'tick'],
      [14_000, 'up'],
    ]),
    ['reset-network'],
  );
});

test('a 10 s press whose ticks were missed still resets on release', () => {
  assert.equal(
    replay([
      [0, 'down'],
      [10_500, 'up'],
    ]),
    ['reset-network'],
  );
});

test('9.9 s is still a short press', () => {
  assert.equal(
    replay([
      [0, 'down'],
      [9_900, 'tick'],
      [9_900, 'up'],
    ]),
    ['pair'],
  );
});

test.run();
