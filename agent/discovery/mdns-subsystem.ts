// Local discovery: the station announces `<name>.local` (A/AAAA) and an `_station._tcp` service
// (port, TXT with version and paths) over mDNS with ciao, so phones and laptops on the LAN find it
// without knowing its address. ciao is loaded in start(): it binds sockets and must not at import.
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import type { Logger } from '../log.ts';
import type { EventBus } from '../events.ts';
import { AGENT_VERSION } from '../version.ts';

export interface DiscoveryDeps {
  config: { name: string; httpHost: string; httpPort: number; mdns: 'on' | 'off' };
  log: Logger;
  events: EventBus;
}

export const SERVICE_TYPE = 'station';

/**
 * Where to announce (pure): only where the API listens. A station bound to loopback cannot be
 * reached from the LAN, so announcing it there would send people to a dead address (and tests,
 * which bind 127.0.0.1, stay silent on the machine's network).
 */
export function announcePlan(httpHost: string): { announce: false; reason: string } | { announce: true; restrictTo?: string[] } {
  const host = httpHost.trim().toLowerCase();
  if (host === 'localhost' || host === '::1' || host.startsWith('127.'))
    return { announce: false, reason: `the API listens on ${httpHost} only, which nothing on the LAN can reach: not announcing` };
  if (host === '0.0.0.0' || host === '::' || host === '') return { announce: true };
  return { announce: true, restrictTo: [httpHost] };
}

/** The TXT record (pure): what a browser needs to open the page and the API. */
export function serviceTxt(name: string): Record<string, string> {
  return { name, version: AGENT_VERSION, path: '/', api: '/api/v1' };
}

interface CiaoServiceLike {
  advertise(): Promise<void>;
  end(): Promise<void>;
  destroy(): Promise<void>;
  getHostname(): string;
  getFQDN(): string;
  on(event: 'name-change' | 'hostname-change', listener: (value: string) => void): unknown;
}
interface ResponderLike {
  createService(options: Record<string, unknown>): CiaoServiceLike;
  shutdown(): Promise<void>;
}

export class DiscoverySubsystem implements Subsystem {
  readonly name = 'discovery';
  private readonly deps: DiscoveryDeps;
  private responder: ResponderLike | undefined;
  private service: CiaoServiceLike | undefined;
  private state: SubsystemHealth = { state: 'starting', reason: 'announcing' };
  private announced: { hostname: string; service: string } | undefined;

  constructor(deps: DiscoveryDeps) {
    this.deps = deps;
  }

  async start(): Promise<void> {
    const { name, httpHost, httpPort, mdns } = this.deps.config;
    if (mdns === 'off') {
      this.state = { state: 'off', reason: 'mDNS announcing is turned off (STATION_MDNS=off)' };
      return;
    }
    const plan = announcePlan(httpHost);
    if (!plan.announce) {
      this.state = { state: 'off', reason: plan.reason };
      return;
    }
    try {
      const ciao = (await import('@homebridge/ciao')) as unknown as {
        getResponder: (o?: Record<string, unknown>) => ResponderLike;
        default?: { getResponder: (o?: Record<string, unknown>) => ResponderLike };
      };
      const getResponder = ciao.getResponder ?? ciao.default!.getResponder;
      this.responder = getResponder(plan.restrictTo ? { interface: plan.restrictTo } : undefined);
      this.service = this.responder.createService({
        name,
        type: SERVICE_TYPE,
        port: httpPort,
        hostname: name,
        txt: serviceTxt(name),
        ...(plan.restrictTo ? { restrictedAddresses: plan.restrictTo } : {}),
      });
      // A second station with the same name on the LAN makes ciao pick "name (2)": say so.
      this.service.on('name-change', (value) => this.deps.log.warn({ name: value }, 'mDNS name taken on the LAN; announcing under another'));
      this.service.on('hostname-change', (value) => this.deps.log.warn({ hostname: value }, 'mDNS host name taken on the LAN'));
      // Probing takes about a second; readiness must not wait for it.
      void this.service.advertise().then(
        () => {
          this.announced = {
            hostname: this.service!.getHostname().replace(/\.$/, ''),
            service: this.service!.getFQDN().replace(/\.$/, ''),
          };
          this.state = { state: 'ok' };
          this.deps.events.publish('discovery.announced', { ...this.announced, port: httpPort });
        },
        (error: Error) => {
          this.state = { state: 'degraded', reason: `mDNS announcement failed: ${error.message}` };
          this.deps.log.warn({ err: error }, 'mDNS announcement failed');
        },
      );
    } catch (error) {
      this.state = { state: 'degraded', reason: `mDNS could not start: ${(error as Error).message}` };
    }
  }

  async stop(): Promise<void> {
    // Saying goodbye (TTL 0) makes browsers forget the station at once instead of after the TTL.
    await this.service?.end().catch(() => undefined);
    await this.service?.destroy().catch(() => undefined);
    await this.responder?.shutdown().catch(() => undefined);
    this.service = undefined;
    this.responder = undefined;
  }

  health(): SubsystemHealth {
    return this.state;
  }

  summary(): Record<string, unknown> {
    return { announced: this.announced ?? null };
  }
}
