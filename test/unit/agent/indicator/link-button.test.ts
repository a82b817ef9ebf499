import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onButtonEdge, onButtonTick, RELEASED, type ButtonState, type ButtonAction } from '../../../../agent/indicator/link-button.ts';

type Step = [number, 'down' | 'up' | 'tick'];

/** Replays [time, 'down'|'up'|'tick'] and collects the actions. */
function replay(steps: Step[]): ButtonAction[] {
  let state: ButtonState = RELEASED;
  const actions: ButtonAction[] = [];
  for (const [at, what] of steps) {
    const r = what === 'tick' ? onButtonTick(state, at) : onButtonEdge(state, what === 'down', at);
    state = r.state;
    if (r.action) actions.push(r.action);
  }
  return actions;
}

// Each press: what it is, the actions it must give, then its timeline ([ms, edge or tick], in order).
const PRESSES: [string, ButtonAction[], ...Step[]][] = [
  ['a short press opens pairing on release', ['pair'], [0, 'down'], [250, 'tick'], [300, 'up']],
  ['a bounce shorter than 50 ms does nothing', [], [0, 'down'], [20, 'up']],
  [
    'holding 10 s resets the network once, while still held, and the release adds nothing',
    ['reset-network'],
    [0, 'down'],
    [9_750, 'tick'],
    [10_000, 'tick'],
    [10_250, 'tick'],
    [14_000, 'up'],
  ],
  ['a 10 s press whose ticks were missed still resets on release', ['reset-network'], [0, 'down'], [10_500, 'up']],
  ['9.9 s is still a short press', ['pair'], [0, 'down'], [9_900, 'tick'], [9_900, 'up']],
];

for (const [name, actions, ...steps] of PRESSES) test(name, () => assert.equal(replay(steps), actions));

test.run();
