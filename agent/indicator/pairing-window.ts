// The pairing window, as on a Hue bridge: a short press of the link button (or an admin API call)
// opens it for 30 s; while it is open one browser on the LAN may ask for an admin session without the
// token, and taking it closes the window (one session per press: a neighbour racing the owner finds
// the window shut, and the owner sees the stranger in the session list). Sessions are random bearers
// kept in memory only (a restart ends them), expire on their own, and are listed and revoked by id.
// Nothing an anonymous caller does removes a live session: when the store is full, new ones are refused.
// The clock is injected so tests can step through opening, expiry and refusal without waiting.
import { randomBytes } from 'node:crypto';
import { tokensEqual } from '../auth/admin-token.ts';
import { ConflictError, ForbiddenError } from '../errors.ts';

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

export interface PairingSession {
  id: string;
  token: string;
  expiresAt: string;
}

/** What the owner sees of a session (never its token). */
export interface SessionInfo {
  id: string;
  createdAt: string;
  expiresAt: string;
  client: string;
  userAgent: string | null;
  openedBy: PairingTrigger;
}

export interface SessionRequest {
  client: string;
  userAgent?: string;
}

export type PairingChange = 'opened' | 'closed' | 'session' | 'revoked';
/** session: the new session's id and client; revoked: the ids */
export interface PairingDetail {
  id?: string;
  client?: string;
  ids?: string[];
}

export interface PairingWindowOptions {
  windowMs?: number;
  sessionMs?: number;
  clock?: PairingClock;
  /** told when the window opens or closes, when a session is handed out (its id) or revoked (the ids) */
  onChange?: (event: PairingChange, state: PairingState, detail?: PairingDetail) => void;
}

/** Live sessions at most; beyond this the owner revokes some before pairing another browser. */
export const MAX_SESSIONS = 16;

interface Session extends SessionInfo {
  token: string;
  expires: number;
}

export class PairingWindow {
  private readonly windowMs: number;
  private readonly sessionMs: number;
  private readonly clock: PairingClock;
  private readonly onChange: PairingWindowOptions['onChange'];
  private closesAt = 0;
  private openedBy: PairingTrigger | null = null;
  private timer: unknown;
  /** id -> session */
  private readonly sessions = new Map<string, Session>();

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

  /** The window's one admin session; refused (403) unless the window is open right now. Taking it closes the window. */
  createSession(request: SessionRequest): PairingSession {
    if (!this.isOpen() || !this.openedBy) {
      throw new ForbiddenError(
        'PAIRING_CLOSED',
        'no pairing window is open: press the link button on the station (or ask an admin to open one), then try within 30 s',
      );
    }
    this.prune();
    if (this.sessions.size >= MAX_SESSIONS) {
      throw new ConflictError(
        'PAIRING_SESSIONS_FULL',
        `${MAX_SESSIONS} pairing sessions are live: revoke one (DELETE /api/v1/pairing/sessions/ID, with the admin token) before pairing another browser`,
      );
    }
    const token = `ps_${randomBytes(24).toString('base64url')}`;
    const id = `s_${randomBytes(6).toString('hex')}`;
    const now = this.clock.now();
    const session: Session = {
      id,
      token,
      expires: now + this.sessionMs,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.sessionMs).toISOString(),
      client: request.client,
      userAgent: request.userAgent?.slice(0, 200) || null,
      openedBy: this.openedBy,
    };
    this.sessions.set(id, session);
    this.onChange?.('session', this.state(), { id, client: session.client });
    this.close();
    return { id, token, expiresAt: session.expiresAt };
  }

  /** The live session this bearer is, if any. */
  private find(bearer: string): Session | undefined {
    if (!bearer.startsWith('ps_')) return undefined;
    const now = this.clock.now();
    for (const session of this.sessions.values()) {
      if (session.expires > now && tokensEqual(bearer, session.token)) return session;
    }
    return undefined;
  }

  /** The credential verifier plugged into AuthService: true for a live session bearer. */
  verify(bearer: string): boolean {
    return this.find(bearer) !== undefined;
  }

  /** The id of the live session this bearer is (null for the admin token or anything else). */
  sessionIdOf(bearer: string): string | null {
    return this.find(bearer)?.id ?? null;
  }

  listSessions(): SessionInfo[] {
    this.prune();
    return [...this.sessions.values()].map(({ id, createdAt, expiresAt, client, userAgent, openedBy }) => ({
      id,
      createdAt,
      expiresAt,
      client,
      userAgent,
      openedBy,
    }));
  }

  /** Ends one session; false when there is none with that id. */
  revoke(id: string): boolean {
    const had = this.sessions.delete(id);
    if (had) this.onChange?.('revoked', this.state(), { ids: [id] });
    return had;
  }

  /** Ends every session (a network reset or an admin asking for it). */
  revokeAll(): number {
    const ids = [...this.sessions.keys()];
    this.sessions.clear();
    if (ids.length) this.onChange?.('revoked', this.state(), { ids });
    return ids.length;
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
    for (const [id, session] of this.sessions) if (session.expires <= now) this.sessions.delete(id);
  }
}
