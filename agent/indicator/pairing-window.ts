// The pairing window, as on a Hue bridge: a short press of the link button (or an admin API call)
// opens it for 30 s; while it is open a browser on the LAN may ask for an admin session without the
// token. Sessions are random bearers kept in memory only (a restart ends them) and expire on their own.
// The clock is injected so tests can step through opening, expiry and refusal without waiting.
import { randomBytes } from 'node:crypto';
import { tokensEqual } from '../auth/admin-token.ts';
import { ForbiddenError } from '../errors.ts';

export interface PairingClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: PairingClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type PairingTrigger = 'button' | 'api';

export interface PairingState {
  open: boolean;
  /** ISO time the window closes, when open */
  closesAt: string | null;
  remainingSeconds: number;
  openedBy: PairingTrigger | null;
  activeSessions: number;
}

export interface PairingSession { token: string; expiresAt: string }

export interface PairingWindowOptions {
  windowMs?: number;
  sessionMs?: number;
  clock?: PairingClock;
  /** told when the window opens or closes, and when a session is handed out */
  onChange?: (event: 'opened' | 'closed' | 'session', state: PairingState) => void;
}

const MAX_SESSIONS = 64;

export class PairingWindow {
  private readonly windowMs: number;
  private readonly sessionMs: number;
  private readonly clock: PairingClock;
  private readonly onChange: PairingWindowOptions['onChange'];
  private closesAt = 0;
  private openedBy: PairingTrigger | null = null;
  private timer: unknown;
  /** token -> expiry (ms) */
  private readonly sessions = new Map<string, number>();

  constructor(options: PairingWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 30_000;
    this.sessionMs = options.sessionMs ?? 12 * 3600_000;
    this.clock = options.clock ?? systemClock;
    this.onChange = options.onChange;
  }

  isOpen(): boolean {
    return this.clock.now() < this.closesAt;
  }

  /** Opens the window (or extends it: pressing again restarts the 30 s). */
  open(trigger: PairingTrigger): PairingState {
    this.closesAt = this.clock.now() + this.windowMs;
    this.openedBy = trigger;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.close(), this.windowMs);
    this.onChange?.('opened', this.state());
    return this.state();
  }

  close(): void {
    const wasOpen = this.closesAt > 0;
    this.closesAt = 0;
    this.openedBy = null;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (wasOpen) this.onChange?.('closed', this.state());
  }

  /** A new admin session; refused (403) unless the window is open right now. */
  createSession(): PairingSession {
    if (!this.isOpen()) {
      throw new ForbiddenError('no pairing window is open: press the link button on the station (or ask an admin to open one), then try within 30 s', 'PAIRING_CLOSED');
    }
    this.prune();
    // A flood of requests inside one window must not grow memory without bound.
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const token = `ps_${randomBytes(24).toString('base64url')}`;
    const expires = this.clock.now() + this.sessionMs;
    this.sessions.set(token, expires);
    this.onChange?.('session', this.state());
    return { token, expiresAt: new Date(expires).toISOString() };
  }

  /** The credential verifier plugged into AuthService: true for a live session bearer. */
  verify(bearer: string): boolean {
    if (!bearer.startsWith('ps_')) return false;
    const now = this.clock.now();
    for (const [token, expires] of this.sessions) {
      if (expires > now && tokensEqual(bearer, token)) return true;
    }
    return false;
  }

  /** Ends every session (a network reset or an admin asking for it). */
  revokeAll(): number {
    const n = this.sessions.size;
    this.sessions.clear();
    return n;
  }

  state(): PairingState {
    const remaining = Math.max(0, this.closesAt - this.clock.now());
    this.prune();
    return {
      open: remaining > 0,
      closesAt: remaining > 0 ? new Date(this.closesAt).toISOString() : null,
      remainingSeconds: Math.ceil(remaining / 1000),
      openedBy: remaining > 0 ? this.openedBy : null,
      activeSessions: this.sessions.size,
    };
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [token, expires] of this.sessions) if (expires <= now) this.sessions.delete(token);
  }
}
