// The DNS-rebinding defence: which Host (and Origin) a request may carry. A web page anyone in the
// family opens can make its own name resolve to the station's address; the browser then treats the
// station as that page's own origin and lets the page read and post. Such requests still say the
// page's name in Host, so the station answers only to names and addresses that are its own: its
// name, NAME.local (mDNS), NAME.<domain> (mesh), localhost, the host name of the machine, the
// configured listen address, the public API and endpoint names in invites, STATION_HTTP_ALLOWED_HOSTS,
// and any address of the machine's interfaces (v4, v6) or mesh. A missing Host (HTTP/1.0) is
// accepted: browsers always send one, so it cannot come from a rebound page.
import { networkInterfaces, hostname } from 'node:os';
import { isIP } from 'node:net';

export interface HostNameConfig {
  name: string;
  domain: string;
  httpHost: string;
  /** comma-separated extra names; `*.example.org` accepts every name under example.org */
  httpAllowedHosts: string;
  meshPublicApi: string;
  meshPublicEndpoint: string;
}

const NAME = /^([a-z0-9_-]+(?:\.[a-z0-9_-]+)*)\.?(?::\d{1,5})?$/;
const BRACKETED = /^\[([0-9a-f:.]+)(?:%[0-9a-z._~-]+)?\](?::\d{1,5})?$/;

/** IPv6 in the form the kernel and URL parser print it (RFC 5952), so lookups compare like with like. */
function canonicalV6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * The host a Host header (or an Origin's host) names: lower case, without port, trailing dot,
 * brackets or IPv6 zone. Undefined for anything malformed (user info, paths, spaces, two ports).
 */
export function parseHost(header: string): string | undefined {
  const text = header.toLowerCase();
  const bracketed = BRACKETED.exec(text);
  if (bracketed) return isIP(bracketed[1]!) === 6 ? canonicalV6(bracketed[1]!) : undefined;
  return NAME.exec(text)?.[1];
}

const WILDCARD_LISTEN = new Set(['', '0.0.0.0', '::', '[::]']);

/** The names this station answers to by its configuration (pure; addresses come from the interfaces). */
export function stationHostNames(config: HostNameConfig, machineHostname: string = hostname()): string[] {
  const names = new Set<string>(['localhost', config.name, `${config.name}.local`, `${config.name}.${config.domain}`]);
  const machine = parseHost(machineHostname);
  if (machine) names.add(machine).add(`${machine.split('.')[0]}.local`);
  if (!WILDCARD_LISTEN.has(config.httpHost.trim()))
    names.add(
      config.httpHost
        .trim()
        .toLowerCase()
        .replace(/^\[|\]$/g, ''),
    );
  for (const extra of config.httpAllowedHosts.split(',')) {
    const entry = extra.trim().toLowerCase();
    if (entry.startsWith('*.')) names.add(`*.${parseHost(entry.slice(2)) ?? ''}`);
    else if (entry) names.add(parseHost(entry) ?? entry);
  }
  // Joining stations call the URLs put in invites: the public API's and the endpoint's names.
  if (config.meshPublicApi) {
    try {
      names.add(parseHost(new URL(config.meshPublicApi).host) ?? '');
    } catch {
      /* validated by the config schema */
    }
  }
  if (config.meshPublicEndpoint) names.add(parseHost(config.meshPublicEndpoint) ?? '');
  names.delete('');
  names.delete('*.');
  return [...names];
}

type Interfaces = () => ReturnType<typeof networkInterfaces>;

export interface HostGuardOptions {
  /** fixed names (stationHostNames); entries `*.suffix` accept every name under suffix */
  names: string[];
  /** names and addresses that change while the agent runs: the mesh address, the mDNS name announced */
  dynamicNames?: readonly (() => string | null | undefined)[];
  interfaces?: Interfaces;
  now?: () => number;
}

/** Everything is looked at again after this long, so an address that went away stops being accepted. */
const MAX_AGE_MS = 30_000;
/** A host not known is looked up again (new address, mesh joined) at most this often: floods stay cheap. */
const MISS_REFRESH_MS = 1000;

export class HostGuard {
  private readonly options: HostGuardOptions;
  private readonly now: () => number;
  private exact = new Set<string>();
  private suffixes: string[] = [];
  private refreshedAt = -Infinity;
  /** the last Host header accepted, as sent: a poller sends the same one every time */
  private lastAccepted: string | undefined;

  constructor(options: HostGuardOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** True when a request carrying this Host header is meant for this station. */
  allowsHost(header: string | undefined): boolean {
    if (header === undefined) return true;
    const now = this.now();
    if (now - this.refreshedAt > MAX_AGE_MS) this.refresh(now);
    else if (header === this.lastAccepted) return true;
    const host = parseHost(header);
    if (host === undefined) return false;
    let known = this.knows(host);
    if (!known && now - this.refreshedAt > MISS_REFRESH_MS) {
      this.refresh(now);
      known = this.knows(host);
    }
    if (known) this.lastAccepted = header;
    return known;
  }

  /** True when an Origin header names a page served by this station (scheme http or https, host allowed). */
  allowsOrigin(origin: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    // An Origin is exactly scheme://host[:port]: anything else (user info, a path, "null") is not one.
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin) return false;
    return this.allowsHost(url.host);
  }

  private knows(host: string): boolean {
    if (this.exact.has(host)) return true;
    for (const suffix of this.suffixes) if (host.endsWith(suffix)) return true;
    return false;
  }

  private refresh(now: number): void {
    const exact = new Set<string>();
    const suffixes: string[] = [];
    const add = (entry: string | null | undefined) => {
      if (!entry) return;
      const lower = entry.toLowerCase();
      if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
      else exact.add(isIP(lower) === 6 ? canonicalV6(lower) : lower);
    };
    for (const name of this.options.names) add(name);
    for (const source of this.options.dynamicNames ?? []) {
      try {
        add(source());
      } catch {
        /* a subsystem that cannot say (not started): its name is simply not added this time */
      }
    }
    for (const list of Object.values((this.options.interfaces ?? networkInterfaces)())) {
      for (const address of list ?? []) add(address.address.replace(/%.*$/, ''));
    }
    this.exact = exact;
    this.suffixes = suffixes;
    this.refreshedAt = now;
    this.lastAccepted = undefined;
  }
}
