// The box's own interface: the status LED, the link button and the pairing window. Pairing works
// without GPIO (the API and `station pair` open the window too); without GPIO lines the LED and
// button are off with the reason, and the agent runs on.
// Who may do what with pairing: the button or the admin token opens a window (a pairing session
// cannot: it would renew itself forever); a caller on the LAN takes the window's one session
// (pairing-origin.ts); refused attempts are counted per caller, apart from the sessions, so a flood
// gets 429 and never touches a live session; the admin token lists and revokes sessions (a session
// may end itself). Its events (pairing.*) are for token holders only (agent/auth/secrets.ts).
import { networkInterfaces } from 'node:os';
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { ForbiddenError, NotFoundError, TooManyRequestsError, UnavailableError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { FailureLimiter } from '../auth/failure-limiter.ts';
import { tunDevFor } from '../mesh/mesh-state.ts';
import { PairingWindow, type PairingClock, type PairingSession, type PairingState, type PairingTrigger, type SessionInfo } from './pairing-window.ts';
import { pairingRefusal, type OriginRules } from './pairing-origin.ts';
import { chooseLedMode, type LedInputs, type LedMode } from './led-patterns.ts';
import { LedPlayer } from './led-player.ts';
import { onButtonEdge, onButtonTick, RELEASED, type ButtonAction, type ButtonState } from './link-button.ts';
import { readGpioChips, resolveGpio } from '../../hardware/gpio/chips.ts';
import { gpioLines, type GpioLines, type InputLine } from '../../hardware/gpio/lines.ts';

/** Who is asking: the Authorization header and the socket's addresses. */
export interface Caller {
  authorization?: string | undefined;
  client: string;
  local?: string | undefined;
  userAgent?: string | undefined;
}

export interface IndicatorDeps {
  config: {
    gpioSysfsRoot: string;
    gpioChipLabel: string;
    ledPin: number;
    buttonPin: number;
    bridge: string;
    nodeSubnet: string;
    meshNodePool: string;
    stateDir: string;
    meshTunDev: string;
  };
  /** the station's interfaces (default os.networkInterfaces), to tell the LAN from the rest */
  interfaces?: OriginRules['interfaces'];
  events: EventBus;
  log: Logger;
  auth: () => AuthService;
  ledInputs: () => Omit<LedInputs, 'pairingOpen'>;
  /** what a 10 s press does (forget Wi-Fi networks, open the setup hotspot) */
  resetNetwork: () => Promise<void>;
  clock?: PairingClock;
  /** tests pass lines over a recorded sysfs tree; default picks onoff on the real one */
  lines?: (root: string) => GpioLines;
}

const LED_REFRESH_MS = 1000;
/** Refused session requests per caller per minute before 429 (a caller that polls the window). */
const ATTEMPTS_PER_MINUTE = 10;

export class IndicatorSubsystem implements Subsystem {
  readonly name = 'indicator';
  readonly pairing: PairingWindow;
  private readonly deps: IndicatorDeps;
  private gpioReason: string | undefined = 'not started';
  private led: LedPlayer | undefined;
  private button: InputLine | undefined;
  private buttonState: ButtonState = RELEASED;
  private timers: NodeJS.Timeout[] = [];
  private pins: Record<string, number> = {};
  /** sessions are accepted only once start() has plugged the window into auth */
  private verifying = false;
  /** refused session requests, per caller: bounded, and separate from the sessions themselves */
  private readonly attempts: FailureLimiter;
  private readonly origin: OriginRules;

  constructor(deps: IndicatorDeps) {
    this.deps = deps;
    this.attempts = new FailureLimiter(ATTEMPTS_PER_MINUTE, 60_000, deps.clock ? () => deps.clock!.now() : Date.now);
    const { config } = deps;
    this.origin = {
      interfaces: deps.interfaces ?? networkInterfaces,
      bridge: config.bridge,
      meshTun: tunDevFor(config.stateDir, config.meshTunDev),
      nodeNetworks: [config.nodeSubnet, config.meshNodePool],
    };
    this.pairing = new PairingWindow({
      clock: deps.clock,
      onChange: (what, state, detail = {}) => {
        // pairing.* events go to token holders only (agent/auth/secrets.ts isAdminOnlyEvent).
        // Each name written out: the event map's test finds every published name in the source.
        const { events } = deps;
        if (what === 'opened') events.publish('pairing.opened', state);
        else if (what === 'closed') events.publish('pairing.closed', state);
        else if (what === 'session') events.publish('pairing.session', { ...state, id: detail.id ?? '', client: detail.client ?? '' });
        else events.publish('pairing.revoked', { ...state, ids: detail.ids ?? [] });
        this.refreshLed();
      },
    });
  }

  async start(): Promise<void> {
    if (!this.verifying) this.deps.auth().addVerifier((bearer) => this.pairing.verify(bearer));
    this.verifying = true;
    const { gpioSysfsRoot: root, gpioChipLabel, ledPin, buttonPin } = this.deps.config;
    if (ledPin < 0 && buttonPin < 0) {
      this.gpioReason = 'no LED or button pin configured';
      return;
    }
    const found = await readGpioChips(root);
    if (!found.available) {
      this.gpioReason = found.reason;
      this.deps.log.info({ reason: found.reason }, 'LED and link button off');
      return;
    }
    try {
      const lines = (this.deps.lines ?? gpioLines)(root);
      if (ledPin >= 0) {
        const { gpio, chip } = resolveGpio(found.chips, ledPin, gpioChipLabel);
        this.led = new LedPlayer(await lines.output(gpio));
        this.pins.led = gpio;
        this.pins.chipBase = chip.base;
      }
      if (buttonPin >= 0) {
        const { gpio } = resolveGpio(found.chips, buttonPin, gpioChipLabel);
        this.button = await lines.input(gpio);
        this.pins.button = gpio;
        // Wired active low: the pin is pulled up and the button connects it to ground.
        this.button.watch((level) => this.onButton(level === 0));
        const tick = setInterval(() => this.handle(onButtonTick(this.buttonState, Date.now())), 250);
        tick.unref();
        this.timers.push(tick);
      }
      this.gpioReason = undefined;
    } catch (error) {
      this.gpioReason = `GPIO lines could not be opened: ${(error as Error).message}`;
      this.deps.log.warn({ err: error }, 'LED and link button off');
      return;
    }
    const refresh = setInterval(() => this.refreshLed(), LED_REFRESH_MS);
    refresh.unref();
    this.timers.push(refresh);
    this.refreshLed();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.pairing.stop();
    await this.led?.stop();
    await this.button?.release();
    this.led = undefined;
    this.button = undefined;
  }

  health(): SubsystemHealth {
    // Off, not degraded: a box without GPIO lines is a normal station (pairing still works via the API).
    return this.gpioReason
      ? { state: 'off', reason: `${this.gpioReason}; pairing still opens with \`station pair\` or POST /api/v1/pairing/open` }
      : { state: 'ok' };
  }

  summary(): Record<string, unknown> {
    return { led: this.led?.current ?? null, gpio: this.gpioReason ? null : this.pins, pairing: this.pairing.state().open };
  }

  pairingState(): PairingState {
    return this.pairing.state();
  }

  /** Whether a window is open, for the API: token holders only (a neighbour who sees it first could take the session). */
  pairingStateFor(caller: Caller): PairingState {
    this.deps.auth().authorizeMutation(caller.authorization, caller.client);
    return this.pairing.state();
  }

  /** The button opens a window; through the API only the admin token does. */
  openPairing(trigger: 'button'): PairingState;
  openPairing(trigger: 'api', caller: Caller): PairingState;
  openPairing(trigger: PairingTrigger, caller?: Caller): PairingState {
    this.requireStarted();
    if (trigger === 'api') this.requireAdminToken(caller!);
    return this.pairing.open(trigger);
  }

  /** The open window's one session, for a caller on the LAN. */
  createSession(caller: Caller): PairingSession {
    this.requireStarted();
    const wait = this.attempts.retryAfter(caller.client);
    if (wait > 0) throw new TooManyRequestsError(`too many pairing attempts from ${caller.client}; try again in ${wait} s`, wait);
    try {
      const refusal = pairingRefusal(caller.client, caller.local, this.origin);
      if (refusal) throw new ForbiddenError('PAIRING_NOT_FROM_LAN', refusal);
      const session = this.pairing.createSession({ client: caller.client, userAgent: caller.userAgent });
      this.deps.log.warn({ client: caller.client, session: session.id }, 'pairing: an admin session was handed out');
      return session;
    } catch (error) {
      if (error instanceof ForbiddenError) this.attempts.recordFailure(caller.client);
      throw error;
    }
  }

  listSessions(caller: Caller): SessionInfo[] {
    this.requireAdminToken(caller);
    return this.pairing.listSessions();
  }

  /** The admin token ends any session; a session may end itself (signing out). */
  revokeSession(id: string, caller: Caller): true {
    this.deps.auth().authorizeMutation(caller.authorization, caller.client);
    const own = this.pairing.sessionIdOf(bearerOf(caller));
    if (own !== id) this.requireAdminToken(caller);
    if (!this.pairing.revoke(id)) throw new NotFoundError('PAIRING_SESSION_NOT_FOUND', `no live pairing session ${id}`);
    return true;
  }

  revokeAllSessions(caller: Caller): number {
    this.requireAdminToken(caller);
    return this.pairing.revokeAll();
  }

  /** A valid bearer that is not a pairing session: the admin token. */
  private requireAdminToken(caller: Caller): void {
    this.deps.auth().authorizeMutation(caller.authorization, caller.client);
    if (this.pairing.sessionIdOf(bearerOf(caller)))
      throw new ForbiddenError('PAIRING_NEEDS_ADMIN_TOKEN', 'a pairing session cannot do this: it needs the admin token (or the link button on the station)');
  }

  // With the subsystem disabled (STATION_DISABLE=indicator) a session would never be accepted: say so.
  private requireStarted(): void {
    if (!this.verifying) throw new UnavailableError('PAIRING_UNAVAILABLE', 'pairing is off: the indicator subsystem is disabled or not started');
  }

  ledMode(): LedMode | undefined {
    return this.led?.current;
  }

  private onButton(pressed: boolean): void {
    this.handle(onButtonEdge(this.buttonState, pressed, Date.now()));
  }

  private handle(result: { state: ButtonState; action?: ButtonAction }): void {
    this.buttonState = result.state;
    if (result.action === 'pair') {
      this.deps.log.info('link button: pairing window opened');
      this.openPairing('button');
    } else if (result.action === 'reset-network') {
      this.deps.log.warn('link button held 10 s: resetting network settings');
      this.pairing.revokeAll();
      this.deps.events.publish('network.reset', { by: 'button' });
      this.deps.resetNetwork().catch((error) => this.deps.log.error({ err: error }, 'network reset failed'));
    }
  }

  private refreshLed(): void {
    if (!this.led) return;
    this.led.show(chooseLedMode({ ...this.deps.ledInputs(), pairingOpen: this.pairing.isOpen() }));
  }
}

const bearerOf = (caller: Caller): string => /^Bearer\s+(\S+)\s*$/i.exec(caller.authorization ?? '')?.[1] ?? '';
