// What each owner's CA vouches for, and the check before trusting another owner's CA. Pure.
//
// Every owner is a CA, and Nebula accepts a certificate from any CA in the bundle with any address
// its CA's limits allow. Nebula 1.6 cannot limit a CA to one owner's /16 of the mesh (the /10 the
// certificates carry must fit in the CA's limit), so a trusted owner could sign one of our
// addresses. The boundary is therefore drawn here and in the firewall: each CA has ranges (its
// /16, from its fingerprint, and its node subnets, its `-subnets` limit); a CA is trusted only when
// it is limited and its ranges overlap no one else's; every firewall rule for it names the CA and
// its ranges (nebula-config.ts); and the API takes a mesh identity only from our own range
// (identity.ts). So an address identifies its CA.
import { ConflictError, ValidationError } from '../errors.ts';
import { cidrsOverlap, cidrWithin, MESH_NETWORK, ownerBlock } from './addresses.ts';
import type { CertInfo } from './cert-info.ts';

export interface CaRanges {
  owner: string;
  fingerprint: string;
  /** the owner's /16 of mesh addresses, where its authority puts its stations */
  block: string;
  /** node subnets its certificates may carry (the CA's subnets limit) */
  subnets: string[];
}

/** Every source address a CA's stations may use over the mesh. */
export const rangesOf = (r: Pick<CaRanges, 'block' | 'subnets'>): string[] => [r.block, ...r.subnets];

/** Why a CA is not limited the way a trusted CA must be, or null when it is. */
export function caLimitProblem(ca: CertInfo): string | null {
  if (!ca.ips.length) return 'it has no ips limit: it could sign any address, ours included';
  const wide = ca.ips.find((c) => !cidrWithin(c, MESH_NETWORK));
  if (wide) return `its ips limit ${wide} reaches outside the mesh network ${MESH_NETWORK}`;
  if (!ca.subnets.length) return 'it has no subnets limit: its certificates could claim any network, a home LAN included';
  const inMesh = ca.subnets.find((c) => cidrsOverlap(c, MESH_NETWORK));
  if (inMesh) return `its subnets limit ${inMesh} overlaps the mesh network ${MESH_NETWORK}`;
  return null;
}

/**
 * Refuses (nothing is changed by the caller) a CA that is not a CA, is unlimited, or whose ranges
 * overlap ours or another trusted CA's; returns its ranges. The same CA trusted again (to change
 * what it may reach) is compared with the others only.
 */
export function assertTrustable(ca: CertInfo, owner: string, own: CaRanges, trusted: CaRanges[]): CaRanges {
  if (!ca.isCa) throw new ValidationError('MESH_CA_INVALID', 'ca must be exactly one Nebula CA certificate (PEM)');
  const problem = caLimitProblem(ca);
  if (problem) {
    throw new ValidationError(
      'MESH_CA_UNLIMITED',
      `the CA of ${owner} cannot be trusted: ${problem}. Its owner makes a limited CA by updating the station software and making the mesh anew`,
    );
  }
  const theirs: CaRanges = { owner, fingerprint: ca.fingerprint, block: ownerBlock(ca.fingerprint), subnets: [...ca.subnets] };
  for (const other of [own, ...trusted.filter((t) => t.fingerprint !== ca.fingerprint)]) {
    for (const mine of rangesOf(theirs)) {
      const clash = rangesOf(other).find((r) => cidrsOverlap(r, mine));
      if (clash) {
        throw new ConflictError(
          'MESH_CA_OVERLAP',
          `the CA of ${owner} covers ${mine}, which overlaps ${clash} of ` +
            `${other.owner === own.owner && other.fingerprint === own.fingerprint ? `this mesh (${own.owner})` : other.owner}: ` +
            'an address must name one owner. One of the two owners makes a new CA (a new mesh) to get other ranges',
        );
      }
    }
  }
  return theirs;
}
