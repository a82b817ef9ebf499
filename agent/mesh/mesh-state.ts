// The mesh's durable state (mesh.json, mode 0600: it holds unused invite secrets) and the layout of
// its key and certificate files under <stateDir>/mesh (directory 0700, files 0600).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { StateDocument } from '../store/document.ts';
import { ownerBlock } from './addresses.ts';
import type { FirewallAllow } from './nebula-config.ts';

export interface MemberRecord {
  name: string;
  /** mesh address without prefix length, e.g. 100.90.0.2 */
  address: string;
  owner: string;
  /** fingerprint of the station's certificate (what a revocation blocks) */
  fingerprint: string;
  /** reachable from the internet: serves as lighthouse and relay */
  lighthouse: boolean;
  /** HOST:PORT of its Nebula, reachable from the internet */
  endpoints: string[];
  apiPort: number;
  /** its node subnet (in its certificate): peers route it to the station over the mesh */
  nodeSubnet?: string;
  joinedAt: string;
  revokedAt?: string;
  /** the owner let this revoked name join again (its certificate stays blocked) */
  readmittedAt?: string;
  /** the station left by itself (revokedAt is set too: its certificate is blocked); it may be invited again */
  leftAt?: string;
}

export interface InviteRecord {
  id: string;
  /** the one-time secret (base64url); kept only until the invite is used or expires */
  secret: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
  usedBy?: string;
}

export interface TrustedCa {
  owner: string;
  fingerprint: string;
  pem: string;
  /** what that owner's stations may reach here, beyond the API's public reads */
  allow: FirewallAllow[];
  /** that owner's lighthouses, so stations of both owners can find each other */
  lighthouses: { name: string; address: string; endpoints: string[] }[];
  /**
   * its node subnets (the CA's subnets limit), checked when it was trusted (ca-ranges.ts); absent
   * for a CA trusted before CAs were checked: then its stations are admitted from its /16 only
   */
  subnets?: string[];
}

/** The ranges a trusted CA's stations are admitted from: its /16 (from its fingerprint) and subnets. */
export const trustedRanges = (t: TrustedCa): string[] => [ownerBlock(t.fingerprint), ...(t.subnets ?? [])];

export interface MeshState {
  role: 'none' | 'authority' | 'member';
  owner: string;
  /** this station's certificate name and mesh address */
  name: string;
  address: string;
  certFingerprint: string;
  caFingerprint: string;
  caPem: string;
  /** where members reach their authority (over the mesh) */
  authority: { name: string; address: string; apiPort: number } | null;
  /** the authority's allocation block (authority only) */
  block: string;
  /** the authority's range of node subnets (authority only) */
  nodeBlock?: string;
  /** this station's node subnet, from its certificate; '' when it has none (older certificate) */
  nodeSubnet?: string;
  /** the owner's stations: the authority's registry, or a member's last copy of it */
  members: MemberRecord[];
  invites: InviteRecord[];
  blocklist: string[];
  trusted: TrustedCa[];
  joinedAt: string | null;
  syncedAt: string | null;
  /** set when the authority refused this station (revoked) */
  revokedAt: string | null;
}

export const emptyMeshState = (): MeshState => ({
  role: 'none',
  owner: '',
  name: '',
  address: '',
  certFingerprint: '',
  caFingerprint: '',
  caPem: '',
  authority: null,
  block: '',
  members: [],
  invites: [],
  blocklist: [],
  trusted: [],
  joinedAt: null,
  syncedAt: null,
  revokedAt: null,
});

export const meshDocument = (stateDir: string): StateDocument<MeshState> =>
  new StateDocument<MeshState>({ file: join(stateDir, 'mesh.json'), version: 1, initial: emptyMeshState, mode: 0o600 });

export interface MeshPaths {
  dir: string;
  caKey: string;
  caCrt: string;
  hostKey: string;
  hostPub: string;
  hostCrt: string;
  caBundle: string;
  config: string;
  pid: string;
  log: string;
}

export function meshPaths(stateDir: string): MeshPaths {
  const dir = join(stateDir, 'mesh');
  return {
    dir,
    caKey: join(dir, 'ca.key'),
    caCrt: join(dir, 'ca.crt'),
    hostKey: join(dir, 'host.key'),
    hostPub: join(dir, 'host.pub'),
    hostCrt: join(dir, 'host.crt'),
    caBundle: join(dir, 'ca-bundle.crt'),
    config: join(dir, 'nebula.yml'),
    pid: join(dir, 'nebula.pid'),
    log: join(dir, 'nebula.log'),
  };
}

/** Lighthouses of the owner's mesh plus those of trusted owners. */
export function lighthousesOf(state: MeshState): { name: string; address: string; endpoints: string[] }[] {
  const own = state.members
    .filter((m) => m.lighthouse && !m.revokedAt && m.endpoints.length)
    .map((m) => ({ name: m.name, address: m.address, endpoints: m.endpoints }));
  const seen = new Set(own.map((l) => l.address));
  const theirs = state.trusted.flatMap((t) => t.lighthouses).filter((l) => !seen.has(l.address));
  return [...own, ...theirs];
}

/**
 * A tun device name unique per station on this host: derived from the state directory (two stations
 * on one machine, e.g. the testbed's, never share one) so Nebula processes never fight over a name.
 */
export function tunDevFor(stateDir: string, configured: string): string {
  if (configured) return configured;
  return `nb${createHash('sha256').update(stateDir).digest('hex').slice(0, 10)}`;
}
