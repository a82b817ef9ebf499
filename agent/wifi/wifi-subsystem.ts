// Wi-Fi onboarding: list, connect, forget, and the setup hotspot when no network is up. The
// decisions come from the pure machine in onboarding.ts; this file observes NetworkManager (and the
// default routes) and carries the machine's actions out. Without nmcli, a running NetworkManager or a
// Wi-Fi device the feature is off with the reason, and the agent runs on.
// The hotspot is WPA2 with this box's passphrase (hotspot-passphrase.ts); a station with another way
// out (uplink.ts) never opens it; picking a network without the token is allowed only to requests
// that arrive on the hotspot itself (arrivedOnHotspot).
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { Runner } from '../exec.ts';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import { Nmcli, HOTSPOT_CONNECTION, type KeyManagement } from '../../hardware/wifi/nmcli.ts';
import type { WifiNetwork } from '../../hardware/wifi/nmcli-parse.ts';
import { defaultRouteInterfaces } from '../../hardware/wifi/default-route.ts';
import { ensureHotspotPassphrase, writeConsoleIssue } from './hotspot-passphrase.ts';
import { isConnected, otherUplink } from './uplink.ts';
import { cidrContains } from '../lib/ipv4.ts';
import {
  initialOnboarding,
  stepOnboarding,
  type OnboardingAction,
  type OnboardingInput,
  type OnboardingState,
  type OnboardingTimings,
  type WifiMode,
} from './onboarding.ts';

export interface WifiDeps {
  run: Runner;
  events: EventBus;
  log: Logger;
  config: { name: string; wifiInterface: string; hotspotSsid: string; hotspotAfterSeconds: number; stateDir: string };
  now?: () => number;
  /** how often NetworkManager is observed (default 10 s) */
  observeMs?: number;
  /** where the routing tables are read (default /proc/net; tests pass recorded ones) */
  procNetDir?: string;
}

export interface WifiStatus {
  available: boolean;
  reason: string | null;
  device: string | null;
  mode: WifiMode | 'off';
  connection: string | null;
  /** the way out that keeps the hotspot closed: a connected device or a default route's interface */
  uplink: string | null;
  hotspotSsid: string;
  saved: { name: string; lastUsed: string | null }[];
}

export interface HotspotCredentials {
  ssid: string;
  passphrase: string;
  security: 'WPA2-PSK';
}

export class WifiSubsystem implements Subsystem {
  readonly name = 'wifi';
  private readonly deps: WifiDeps;
  private readonly nm: Nmcli;
  private readonly now: () => number;
  private readonly timings: OnboardingTimings;
  private device: string | null = null;
  private offReason: string | null = 'not started';
  private machine: OnboardingState;
  private connection: string | null = null;
  private uplink: string | null = null;
  private passphrase: string | null = null;
  /** the hotspot's addresses (CIDR) as NetworkManager reports them, while it is open */
  private hotspotCidrs: string[] = [];
  private saved: { name: string; lastUsed: string | null }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  private starting: Promise<void> = Promise.resolve();
  private stopped = false;
  private probing = false;

  constructor(deps: WifiDeps) {
    this.deps = deps;
    this.nm = new Nmcli(deps.run);
    this.now = deps.now ?? Date.now;
    // At boot NetworkManager gets 30 s (or the configured wait, when shorter) to bring a saved network up.
    const lostMs = deps.config.hotspotAfterSeconds * 1000;
    this.timings = { bootGraceMs: Math.min(30_000, lostMs), lostMs, retryMs: 60_000, connectTimeoutMs: 45_000 };
    this.machine = initialOnboarding(0);
  }

  get hotspotSsid(): string {
    return this.deps.config.hotspotSsid || `${this.deps.config.name}-setup`.slice(0, 32);
  }

  get hotspotActive(): boolean {
    return this.offReason === null && this.machine.mode === 'hotspot';
  }

  /** Returns at once: NetworkManager may answer slowly, and readiness must not wait for it. */
  async start(): Promise<void> {
    this.machine = initialOnboarding(this.now());
    this.offReason = 'asking NetworkManager for a Wi-Fi device';
    this.probing = true;
    this.starting = this.probe().finally(() => {
      this.probing = false;
    });
  }

  /** Resolves once the first look at NetworkManager is done (for tests and the CLI's first answer). */
  settled(): Promise<void> {
    return this.starting;
  }

  private async probe(): Promise<void> {
    try {
      const wifi = (await this.nm.devices()).filter((d) => d.type === 'wifi');
      const wanted = this.deps.config.wifiInterface;
      const device = wanted ? wifi.find((d) => d.device === wanted) : wifi[0];
      if (!device) {
        this.offReason = wanted ? `NetworkManager has no Wi-Fi device ${wanted}` : 'NetworkManager lists no Wi-Fi device: Wi-Fi onboarding is off';
        return;
      }
      this.device = device.device;
      this.passphrase = await ensureHotspotPassphrase(this.deps.config.stateDir);
      await writeConsoleIssue(this.deps.config.stateDir, this.hotspotSsid, this.passphrase);
      this.offReason = null;
    } catch (error) {
      if ((error as { code?: string }).code === 'INVALID_HOTSPOT_PASSPHRASE') {
        this.offReason = `${(error as Error).message}: Wi-Fi onboarding is off`;
        return;
      }
      const message = (error as Error).message;
      this.offReason = /ENOENT|could not start/i.test(message)
        ? 'nmcli is not installed (Debian package network-manager): Wi-Fi onboarding is off'
        : // nmcli's words when no NetworkManager answers on D-Bus (recorded: test/fixtures/nmcli/no-daemon)
          /Could not create NMClient|NetworkManager is not running/i.test(message)
          ? `NetworkManager is not running (nmcli: ${message}): Wi-Fi onboarding is off`
          : `NetworkManager is not usable (${message}): Wi-Fi onboarding is off`;
      return;
    }
    await this.observe();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.observe(), this.deps.observeMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.busy;
  }

  health(): SubsystemHealth {
    if (this.probing) return { state: 'starting', reason: 'asking NetworkManager for a Wi-Fi device' };
    if (this.offReason) return { state: 'off', reason: this.offReason };
    if (this.machine.mode === 'hotspot') return { state: 'ok', reason: `no network: setup hotspot "${this.hotspotSsid}" is open` };
    return { state: 'ok' };
  }

  summary(): Record<string, unknown> {
    return { mode: this.offReason ? 'off' : this.machine.mode, device: this.device, connection: this.connection, uplink: this.uplink };
  }

  /**
   * True only for a request that came in over the open hotspot: its local address is one the hotspot
   * holds and the caller is inside that subnet. Any other path (the LAN, the mesh, a node, a LAN host
   * routing to the hotspot's address) is not.
   */
  arrivedOnHotspot(remote: string | undefined, local: string | undefined): boolean {
    if (!this.hotspotActive || !remote || !local) return false;
    return this.hotspotCidrs.some((cidr) => cidr.split('/')[0] === local.replace(/^::ffff:/, '') && cidrContains(cidr, remote.replace(/^::ffff:/i, '')));
  }

  /** The hotspot's name and passphrase, for an admin (or a label on the box). */
  hotspotCredentials(): HotspotCredentials {
    this.requireDevice();
    return { ssid: this.hotspotSsid, passphrase: this.passphrase!, security: 'WPA2-PSK' };
  }

  status(): WifiStatus {
    return {
      available: this.offReason === null,
      reason: this.offReason,
      device: this.device,
      mode: this.offReason ? 'off' : this.machine.mode,
      connection: this.connection,
      uplink: this.uplink,
      hotspotSsid: this.hotspotSsid,
      saved: this.saved,
    };
  }

  async networks(rescan: boolean): Promise<WifiNetwork[]> {
    const device = this.requireDevice();
    return this.nm.scan(device, rescan);
  }

  /** Connect to a network the person picked; back to the hotspot if that fails. */
  async connect(ssid: string, password?: string): Promise<WifiStatus> {
    this.requireDevice();
    // What WPA accepts as a passphrase (IEEE 802.11i): 8 to 63 printable ASCII characters.
    if (password !== undefined && !/^[\x20-\x7e]{8,63}$/.test(password))
      throw new ValidationError('INVALID_WIFI_PASSWORD', 'a WPA password has 8 to 63 printable ASCII characters');
    await this.feed({ type: 'chosen', now: this.now(), ssid, password });
    return this.status();
  }

  async forget(name: string): Promise<WifiStatus> {
    this.requireDevice();
    await this.refreshSaved();
    if (!this.saved.some((s) => s.name === name)) throw new NotFoundError('WIFI_NETWORK_NOT_FOUND', `no saved Wi-Fi network named ${name}`);
    await this.nm.forget(name);
    await this.refreshSaved();
    this.deps.events.publish('wifi.forgotten', { name });
    return this.status();
  }

  /** The 10 s link button press: forget every saved Wi-Fi network and open the setup hotspot. */
  async resetNetwork(): Promise<void> {
    if (this.offReason) return;
    await this.feed({ type: 'reset', now: this.now() });
  }

  /** Where the open hotspot can be reached (NetworkManager's shared mode picks 10.42.x.1/24). */
  private async refreshHotspotAddresses(): Promise<void> {
    this.hotspotCidrs = await this.nm.addresses(this.device!).catch((error) => {
      this.deps.log.warn({ err: error }, "the setup hotspot's address is unknown: joining a network needs the token");
      return [];
    });
  }

  /** WPA3-only networks need SAE; everything else with a password takes WPA/WPA2 personal. */
  private async keyManagementFor(ssid: string): Promise<KeyManagement> {
    const seen = (await this.nm.scan(this.device!, false).catch(() => [])).find((n) => n.ssid === ssid);
    return seen && /WPA3/.test(seen.security) && !/WPA[12]/.test(seen.security) ? 'sae' : 'wpa-psk';
  }

  private requireDevice(): string {
    if (this.offReason || !this.device) throw new UnavailableError('WIFI_UNAVAILABLE', this.offReason ?? 'no Wi-Fi device');
    return this.device;
  }

  private async refreshSaved(): Promise<void> {
    const all = await this.nm.connections();
    this.saved = all.filter((c) => c.type === '802-11-wireless' && c.name !== HOTSPOT_CONNECTION).map((c) => ({ name: c.name, lastUsed: c.lastUsed }));
  }

  /** One look at NetworkManager, fed to the machine (the timer calls it; tests call it with their clock). */
  async observe(): Promise<void> {
    try {
      const devices = await this.nm.devices();
      const device = devices.find((d) => d.device === this.device);
      this.connection = device?.connection ?? null;
      await this.refreshSaved();
      const radioClient = isConnected(device) && this.connection !== HOTSPOT_CONNECTION;
      // Another way out keeps (or takes) the hotspot down: ethernet, another device, a default route.
      const other = otherUplink(devices, this.device, await defaultRouteInterfaces(this.deps.procNetDir));
      this.uplink = other ?? (radioClient ? this.device : null);
      const connected = radioClient || other !== null;
      if (this.machine.mode === 'hotspot' && !this.hotspotCidrs.length) await this.refreshHotspotAddresses();
      let savedInRange = false;
      if (this.machine.mode === 'hotspot' && this.saved.length) {
        // Most radios can list neighbours while serving an access point; a cached list is enough here.
        const seen = new Set((await this.nm.scan(this.device!, false).catch(() => [])).map((n) => n.ssid));
        savedInRange = this.saved.some((s) => seen.has(s.name));
      }
      await this.feed({
        type: 'observe',
        now: this.now(),
        connected,
        uplink: other !== null,
        hasSaved: this.saved.length > 0,
        savedInRange,
      });
    } catch (error) {
      this.deps.log.warn({ err: error }, 'Wi-Fi observation failed');
    }
  }

  /** Steps the machine and carries out its actions, one input at a time. */
  private feed(input: OnboardingInput): Promise<void> {
    const next = this.busy.then(async () => {
      const before = this.machine.mode;
      const { state, actions } = stepOnboarding(this.machine, input, this.timings);
      this.machine = state;
      for (const action of actions) {
        try {
          await this.apply(action);
        } catch (error) {
          this.deps.log.warn({ err: error, action: action.type }, 'Wi-Fi action failed');
          if (action.type === 'connect' || action.type === 'connect-saved') {
            this.machine = stepOnboarding(this.machine, { type: 'connect-failed', now: this.now() }, this.timings).state;
            await this.apply({ type: 'open-hotspot' }).catch(() => undefined);
            if (input.type === 'chosen')
              throw new ConflictError('WIFI_CONNECT_FAILED', `could not join ${input.ssid}: ${(error as Error).message}; the setup hotspot is open again`);
          }
        }
      }
      if (this.machine.mode !== 'hotspot') this.hotspotCidrs = [];
      if (this.machine.mode !== before) this.deps.events.publish('wifi.mode', { mode: this.machine.mode, from: before, hotspotSsid: this.hotspotSsid });
    });
    this.busy = next.catch(() => undefined);
    return next;
  }

  private async apply(action: OnboardingAction): Promise<void> {
    const device = this.device!;
    switch (action.type) {
      case 'open-hotspot':
        await this.nm.hotspot(device, this.hotspotSsid, this.passphrase!);
        await this.refreshHotspotAddresses();
        return;
      case 'close-hotspot':
        this.hotspotCidrs = [];
        return this.nm.down(HOTSPOT_CONNECTION).catch(() => undefined);
      case 'connect':
        return this.nm.connect(device, action.ssid, action.password, action.password ? await this.keyManagementFor(action.ssid) : undefined);
      case 'connect-saved': {
        const newest = [...this.saved].sort((a, b) => (b.lastUsed ?? '').localeCompare(a.lastUsed ?? ''))[0];
        if (newest) await this.nm.up(newest.name);
        return;
      }
      case 'forget-all':
        for (const s of this.saved) await this.nm.forget(s.name);
        this.saved = [];
        return;
    }
  }
}
