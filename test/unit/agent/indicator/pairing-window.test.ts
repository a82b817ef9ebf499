import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PairingWindow, type PairingClock } from '../../../../agent/indicator/pairing-window.ts';
import { ForbiddenError } from '../../../../agent/errors.ts';

/** A clock the test moves by hand; timers fire when their time is passed. */
function manualClock() {
  let now = 1_000_000;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: PairingClock = {
    now: () => now,
    setTimeout: (fn, ms) => { const id = next++; timers.push({ at: now + ms, fn, id }); return id; },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now)) { timers = timers.filter((x) => x !== t); t.fn(); }
  };
  return { clock, advance };
}

const refused = (fn: () => unknown) => {
  try { fn(); } catch (error) { return error; }
  assert.unreachable('expected a refusal');
};

test('no session without an open window', () => {
  const w = new PairingWindow({ clock: manualClock().clock });
  const error = refused(() => w.createSession()) as ForbiddenError;
  assert.instance(error, ForbiddenError);
  assert.is(error.code, 'PAIRING_CLOSED');
  assert.is(w.state().open, false);
});

test('inside the 30 s window a session is handed out and verifies; after it closes new ones are refused, old ones still work', () => {
  const { clock, advance } = manualClock();
  const seen: string[] = [];
  const w = new PairingWindow({ clock, onChange: (what) => seen.push(what) });
  const opened = w.open('button');
  assert.is(opened.open, true);
  assert.is(opened.remainingSeconds, 30);
  assert.is(opened.openedBy, 'button');
  advance(29_000);
  const session = w.createSession();
  assert.ok(session.token.startsWith('ps_'));
  assert.ok(w.verify(session.token));
  assert.not.ok(w.verify(`${session.token}x`));
  assert.not.ok(w.verify('st_admin-looking-token'));
  advance(1_000);
  assert.is(w.state().open, false);
  assert.equal(seen, ['opened', 'session', 'closed']);
  refused(() => w.createSession());
  assert.ok(w.verify(session.token), 'a session outlives the window that made it');
});

test('sessions expire, and revokeAll ends them at once', () => {
  const { clock, advance } = manualClock();
  const w = new PairingWindow({ clock, sessionMs: 60_000 });
  w.open('api');
  const a = w.createSession();
  const b = w.createSession();
  assert.is(w.state().activeSessions, 2);
  advance(60_000);
  assert.not.ok(w.verify(a.token));
  w.open('api');
  const c = w.createSession();
  assert.is(w.revokeAll(), 1);
  assert.not.ok(w.verify(c.token));
  assert.not.ok(w.verify(b.token));
});

test('pressing again restarts the 30 s', () => {
  const { clock, advance } = manualClock();
  const w = new PairingWindow({ clock });
  w.open('button');
  advance(20_000);
  w.open('button');
  advance(20_000);
  assert.is(w.state().open, true);
  assert.is(w.state().remainingSeconds, 10);
  advance(10_000);
  assert.is(w.state().open, false);
});

test.run();
