// HOST:PORT of a Nebula endpoint, checked strictly. Pure. What a joining station, a trusted owner or
// the authority's directory says here ends up in every station's nebula.yml (static_host_map), so
// only three shapes pass: an IPv4 literal, a bracketed IPv6 literal or a DNS name, then a port
// 1..65535 in plain decimal. Nothing else (spaces, quotes, newlines, a second colon) can pass.
import { isIPv4, isIPv6 } from 'node:net';
import { ValidationError } from '../errors.ts';

const PORT = /^[1-9]\d{0,4}$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const MAX_LENGTH = 261; // a 253-character name, ':' and a port

/** Why `text` is not a Nebula endpoint, or null when it is. */
function problem(text: string): string | null {
  if (typeof text !== 'string' || !text.length || text.length > MAX_LENGTH) return 'it must be HOST:PORT';
  const m = /^(\[[^\]]*\]|[^:[\]]*):([^:]*)$/.exec(text);
  if (!m) return 'it must be HOST:PORT (an IPv6 address in brackets)';
  const [, host, port] = m as unknown as [string, string, string];
  if (!PORT.test(port) || Number(port) > 65535) return 'the port must be 1..65535';
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1)) ? null : 'the bracketed host must be an IPv6 address';
  if (/^[\d.]+$/.test(host)) return isIPv4(host) ? null : 'the host looks like an IPv4 address but is not one';
  if (host.length > 253 || !host.split('.').every((l) => LABEL.test(l))) return 'the host must be an IPv4 or IPv6 address or a DNS name';
  return null;
}

export const isEndpoint = (text: string): boolean => problem(text) === null;

/** Refuses (400 MESH_ENDPOINT_INVALID) an endpoint that is not HOST:PORT; `what` says whose it is. */
export function assertEndpoint(text: string, what: string): void {
  const why = problem(text);
  if (why)
    throw new ValidationError(
      'MESH_ENDPOINT_INVALID',
      `${what} ${JSON.stringify(text).slice(0, 300)} is not a Nebula endpoint: ${why} (e.g. 203.0.113.7:4242)`,
    );
}

export const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
