import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PairingWindow, type PairingClock } from '../../../../agent/indicator/pairing-window.ts';
import { ConflictError, ForbiddenError } from '../../../../agent/errors.ts';

const LAN_HOST = { client: '198.18.0.9', userAgent: 'Firefox on the sofa' };

/** A clock the test moves by hand; timers fire when their time is passed. */
function manualClock() {
  let now = 1_000_000;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: PairingClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => x.at <= now)) {
      timers = timers.filter((x) => x !== t);
      t.fn();
    }
  };
  return { clock, advance };
}

const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.unreachable('expected a refusal');
};

test('no session without an open window', () => {
  const w = new PairingWindow({ clock: manualClock().clock });
  const error = refused(() => w.createSession(LAN_HOST)) as ForbiddenError;
  assert.instance(error, ForbiddenError);
  assert.is(error.code, 'PAIRING_CLOSED');
  assert.is(w.state().open, false);
});

test('inside the 30 s window one session is handed out and verifies; taking it closes the window; the session outlives it', () => {
  const { clock, advance } = manualClock();
  const seen: string[] = [];
  const w = new PairingWindow({ clock, onChange: (what) => seen.push(what) });
  const opened = w.open('button');
  assert.is(opened.open, true);
  assert.is(opened.remainingSeconds, 30);
  assert.is(opened.openedBy, 'button');
  advance(29_000);
  const session = w.createSession(LAN_HOST);
  assert.ok(session.token.startsWith('ps_'));
  assert.ok(w.verify(session.token));
  assert.not.ok(w.verify(`${session.token}x`));
  assert.not.ok(w.verify('st_admin-looking-token'));
  assert.is(w.state().open, false, 'one session per window: the window closed when it was taken');
  assert.equal(seen, ['opened', 'session', 'closed']);
  advance(1_000);
  assert.ok(w.verify(session.token), 'a session outlives the window that made it');
});

test('a second request in the same window (a neighbour racing the owner) is refused: the window is closed', () => {
  const w = new PairingWindow({ clock: manualClock().clock });
  w.open('button');
  const owner = w.createSession(LAN_HOST);
  const second = refused(() => w.createSession({ client: '198.18.0.66' })) as ForbiddenError;
  assert.is(second.code, 'PAIRING_CLOSED');
  // 64 more requests (they used to evict the oldest session): all refused, the owner's session lives.
  for (let i = 0; i < 64; i++) refused(() => w.createSession({ client: '198.18.0.66' }));
  assert.is(w.state().activeSessions, 1);
  assert.ok(w.verify(owner.token));
});

test('requests never evict a live session: when the store is full, new sessions are refused and the old ones still work', () => {
  const w = new PairingWindow({ clock: manualClock().clock });
  const first: string[] = [];
  for (let i = 0; i < 16; i++) {
    w.open('api');
    first.push(w.createSession({ client: `198.18.0.${i + 1}` }).token);
  }
  w.open('api');
  const full = refused(() => w.createSession(LAN_HOST)) as ConflictError;
  assert.instance(full, ConflictError);
  assert.is(full.code, 'PAIRING_SESSIONS_FULL');
  assert.ok(
    first.every((t) => w.verify(t)),
    'every earlier session is still live',
  );
});

test('sessions are listed (who, when; never the token) and revoked one by one or all at once', () => {
  const { clock, advance } = manualClock();
  const revoked: string[] = [];
  const w = new PairingWindow({
    clock,
    sessionMs: 60_000,
    onChange: (what) => {
      if (what === 'revoked') revoked.push(what);
    },
  });
  w.open('button');
  const a = w.createSession(LAN_HOST);
  advance(1_000);
  w.open('api');
  const b = w.createSession({ client: '198.18.0.10' });
  const list = w.listSessions();
  assert.equal(
    list.map((s) => [s.id, s.client, s.userAgent, s.openedBy]),
    [
      [a.id, '198.18.0.9', 'Firefox on the sofa', 'button'],
      [b.id, '198.18.0.10', null, 'api'],
    ],
  );
  assert.not.match(JSON.stringify(list), a.token.slice(3));
  assert.is(w.sessionIdOf(b.token), b.id);
  assert.ok(w.revoke(a.id));
  assert.not.ok(w.revoke(a.id), 'already gone');
  assert.not.ok(w.verify(a.token));
  assert.ok(w.verify(b.token));
  assert.is(w.revokeAll(), 1);
  assert.not.ok(w.verify(b.token));
  assert.equal(revoked, ['revoked', 'revoked']);
});

test('sessions expire on their own', () => {
  const { clock, advance } = manualClock();
  const w = new PairingWindow({ clock, sessionMs: 60_000 });
  w.open('api');
  const a = w.createSession(LAN_HOST);
  advance(60_000);
  assert.not.ok(w.verify(a.token));
  assert.equal(w.listSessions(), []);
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
