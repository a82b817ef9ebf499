// A community: this station trusts other owners' CAs. Trusting one is refused, with nothing
// changed, unless that CA is limited and its ranges overlap neither ours nor another trusted CA's
// (ca-ranges.ts); only its lighthouses in its own range are taken. CAs made or trusted before these
// checks keep working, with warnings.
import { ConflictError, ValidationError } from '../errors.ts';
import { inCidr, ownerBlock } from './addresses.ts';
import { assertTrustable, caLimitProblem, type CaRanges } from './ca-ranges.ts';
import { assertEndpoint, isPort } from './endpoint.ts';
import type { MeshContext } from './context.ts';
import { ownBlockOf } from './identity.ts';
import type { MeshState, TrustedCa } from './mesh-state.ts';
import type { NebulaCert } from './nebula-cert.ts';

export interface TrustInput {
  owner: string;
  ca: string;
  allow: TrustedCa['allow'];
  lighthouses: TrustedCa['lighthouses'];
}

/** This owner's ranges: its /16 and its node subnets (the CA's limit; for older CAs, what is known). */
async function ownRanges(cert: NebulaCert, s: MeshState): Promise<CaRanges> {
  const [ca] = await cert.inspect(s.caPem).catch(() => []);
  const subnets = ca?.subnets.length ? ca.subnets : s.nodeBlock ? [s.nodeBlock] : s.members.flatMap((m) => (m.nodeSubnet ? [m.nodeSubnet] : []));
  return { owner: s.owner, fingerprint: s.caFingerprint, block: ownBlockOf(s), subnets };
}

/** Checks another owner's CA and records it as trusted (the caller applies the new state). */
/** A port for Nebula's firewall: "any", a port or a range "a-b", each 1..65535. */
function isFirewallPort(port: string): boolean {
  if (port === 'any') return true;
  const m = /^([1-9]\d{0,4})(?:-([1-9]\d{0,4}))?$/.exec(port);
  return !!m && isPort(Number(m[1])) && (m[2] === undefined || (isPort(Number(m[2])) && Number(m[2]) >= Number(m[1])));
}

export async function trustCa(ctx: MeshContext, input: TrustInput): Promise<void> {
  const s = ctx.doc.get();
  const badAllow = input.allow.find((a) => !isFirewallPort(a.port) || !['tcp', 'udp', 'icmp', 'any'].includes(a.proto));
  if (badAllow)
    throw new ValidationError(
      'MESH_ALLOW_INVALID',
      `allow ${JSON.stringify(badAllow)}: the port must be "any", a port or a range "a-b" of 1..65535, the proto tcp, udp, icmp or any`,
    );
  if (s.role === 'none') throw new ConflictError('MESH_NOT_MEMBER', 'join or create a mesh before trusting other owners');
  const certs = await ctx.cert.inspect(input.ca).catch(() => []);
  if (certs.length !== 1 || !certs[0]!.isCa) throw new ValidationError('MESH_CA_INVALID', 'ca must be exactly one Nebula CA certificate (PEM)');
  const fingerprint = certs[0]!.fingerprint;
  if (fingerprint === s.caFingerprint) throw new ConflictError('MESH_CA_OWN', "that is this mesh's own CA");
  // An owner name stands for one CA (owner-NAME groups are bound to it): never ours, never two CAs.
  if (input.owner === s.owner || s.trusted.some((t) => t.owner === input.owner && t.fingerprint !== fingerprint)) {
    throw new ConflictError('MESH_OWNER_TAKEN', `the owner name ${input.owner} already stands for another CA here; give this one another name`);
  }
  const trusted = s.trusted.map((t) => ({
    owner: t.owner,
    fingerprint: t.fingerprint,
    block: ownerBlock(t.fingerprint),
    subnets: t.subnets ?? [],
  }));
  const ranges = assertTrustable(certs[0]!, input.owner, await ownRanges(ctx.cert, s), trusted);
  // Its lighthouses go into every station's static host map, so only those in its own range are
  // taken: its GET /mesh also lists the lighthouses of owners it trusts (maybe ours), and an
  // address of ours mapped to its endpoint would send our stations to its station in our place.
  const lighthouses = input.lighthouses.filter((l) => inCidr(l.address, ranges.block));
  for (const l of lighthouses) for (const e of l.endpoints) assertEndpoint(e, `the endpoint of ${input.owner}'s lighthouse ${l.name}`);
  await ctx.doc.update((d) => {
    d.trusted = d.trusted.filter((t) => t.fingerprint !== fingerprint);
    d.trusted.push({
      owner: input.owner,
      fingerprint,
      pem: `${input.ca.trimEnd()}\n`,
      allow: input.allow,
      lighthouses,
      subnets: ranges.subnets,
    });
  });
}

/**
 * What is weaker than it should be, for the health and /status: a CA of ours made before CAs were
 * limited (other owners' stations refuse to trust it; a new mesh makes a limited one: the old CA
 * cannot be limited in place, since every certificate names it by its fingerprint), and CAs trusted
 * unchecked (admitted from their /16 only, until trusted again).
 */
export async function caWarnings(cert: NebulaCert, s: MeshState): Promise<string[]> {
  const warnings: string[] = [];
  const [ca] = await cert.inspect(s.caPem).catch(() => []);
  const problem = ca ? caLimitProblem(ca) : null;
  if (problem)
    warnings.push(
      `this mesh's CA was made before CAs were limited (${problem}): other owners' stations refuse to trust it; making the mesh anew gives a limited CA`,
    );
  for (const t of s.trusted.filter((x) => !x.subnets))
    warnings.push(
      `the CA of ${t.owner} was trusted before CAs were checked: its stations are admitted from ${ownerBlock(t.fingerprint)} only; trust it again to check it`,
    );
  return warnings;
}
