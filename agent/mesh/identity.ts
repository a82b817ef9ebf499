// Who is calling the station-to-station API, and whether a directory from the authority can be
// taken. Pure. Nebula guarantees the source address inside the tunnel, and every rule of its
// firewall binds a CA to its own ranges (ca-ranges.ts, nebula-config.ts); so an address in this
// owner's /16 comes from a certificate of this owner's CA, and only such an address identifies a
// member. A member record outside that range (a forged or damaged directory) identifies nobody.
import { isIPv4 } from 'node:net';
import { ForbiddenError, ValidationError } from '../errors.ts';
import { inCidr, MESH_NETWORK, ownerBlock } from './addresses.ts';
import type { Directory } from './authority.ts';
import { isEndpoint, isPort } from './endpoint.ts';
import type { MemberRecord, MeshState } from './mesh-state.ts';

/** This owner's /16 of mesh addresses (members keep no `block`: it follows from the CA). */
export const ownBlockOf = (s: Pick<MeshState, 'block' | 'caFingerprint'>): string => s.block || ownerBlock(s.caFingerprint);

const unmapped = (address: string): string => address.replace(/^::ffff:/, '');

/**
 * The member calling: the request arrived on our mesh address from an address in our range that
 * a live member holds. Anything else (LAN, another owner's range, revoked, unknown) is refused.
 */
export function identifyCaller(s: MeshState, remoteAddress: string, localAddress: string | undefined): MemberRecord {
  const remote = unmapped(remoteAddress);
  const local = unmapped(localAddress ?? '');
  if (s.role === 'none' || local !== s.address || !inCidr(remote, MESH_NETWORK)) {
    throw new ForbiddenError('MESH_IDENTITY_REQUIRED', 'this call is only for stations of the mesh, over the mesh');
  }
  if (!inCidr(remote, ownBlockOf(s))) throw new ForbiddenError('MESH_NOT_A_MEMBER', `${remote} is not in the range of ${s.owner}'s mesh: not a member`);
  const member = s.members.find((m) => m.address === remote && !m.revokedAt);
  if (!member) throw new ForbiddenError('MESH_NOT_A_MEMBER', `${remote} is not a member of this mesh`);
  return member;
}

/**
 * Refuses member records (from the authority: a directory or the enrolment reply) with an address
 * outside this owner's range, an endpoint that is not HOST:PORT or an API port that is not one:
 * they go into every station's nebula.yml and into how stations call each other.
 */
export function checkMembers(members: MemberRecord[], block: string): void {
  for (const m of members) {
    if (typeof m.address !== 'string' || !isIPv4(m.address) || !inCidr(m.address, block)) {
      throw new ValidationError('MESH_DIRECTORY_INVALID', `the member ${m.name} at ${m.address} is outside this mesh's range ${block}`);
    }
    if (!Array.isArray(m.endpoints) || !m.endpoints.every(isEndpoint))
      throw new ValidationError('MESH_DIRECTORY_INVALID', `the member ${m.name} has an endpoint that is not HOST:PORT`);
    if (!isPort(m.apiPort)) throw new ValidationError('MESH_DIRECTORY_INVALID', `the member ${m.name} has an API port that is not 1..65535`);
  }
}

/** Refuses a directory that is not of this owner's CA or has a member record checkMembers refuses. */
export function checkDirectory(s: MeshState, d: Directory): void {
  if (d.caFingerprint !== s.caFingerprint)
    throw new ValidationError('MESH_DIRECTORY_INVALID', `the directory is for CA ${String(d.caFingerprint).slice(0, 12)}…, not this mesh's`);
  checkMembers(d.members, ownBlockOf(s));
}
