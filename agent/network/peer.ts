// Parses the peer words of a policy (`to` / `from`): lan, mesh, internet, station, node:NAME,
// owner:NAME, group:NAME or an IPv4 CIDR. Pure; the validator turns a null into a clear error.
import { parseCidr, type Ipv4Problem } from '../lib/ipv4.ts';

export type Peer =
  | { kind: 'lan' }
  | { kind: 'mesh' }
  | { kind: 'internet' }
  | { kind: 'station' }
  | { kind: 'node'; name: string }
  | { kind: 'owner'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'cidr'; cidr: string };

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/;

export type PeerProblem = Ipv4Problem;

/** Parses one peer word; returns a problem (in words) when it is not one. */
export function parsePeer(text: string): Peer | PeerProblem {
  if (text === 'lan' || text === 'mesh' || text === 'internet' || text === 'station') return { kind: text };
  const colon = text.indexOf(':');
  if (colon > 0) {
    const prefix = text.slice(0, colon);
    const name = text.slice(colon + 1);
    if (prefix === 'node' || prefix === 'owner' || prefix === 'group') {
      if (!NAME.test(name)) return { problem: `"${name}" is not a valid ${prefix} name (lower-case letters, digits and dashes)` };
      return { kind: prefix, name };
    }
    return { problem: `unknown peer kind "${prefix}:" (expected node:, owner: or group:)` };
  }
  if (/^[0-9./]+$/.test(text)) {
    const cidr = parseCidr(text);
    return 'problem' in cidr ? cidr : { kind: 'cidr', cidr: cidr.cidr };
  }
  return {
    problem: `unknown keyword "${text}" (expected lan, mesh, internet, station, node:NAME, owner:NAME, group:NAME or an IPv4 CIDR)`,
  };
}

export const isPeerProblem = (p: Peer | PeerProblem): p is PeerProblem => 'problem' in p;
