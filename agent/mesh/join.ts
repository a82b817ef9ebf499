// Joining a mesh with an invite code, on the new station. The key pair is made here and the
// private key never leaves; the inviter's reply must carry a MAC made with the invite secret and a
// CA whose fingerprint is the one in the code, else nothing is kept.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { ConflictError, ForbiddenError, type StationError, UnavailableError, ValidationError } from '../errors.ts';
import type { EnrolPayload, EnrolReply, EnrolRequest } from './authority.ts';
import { publicKeyHex, splitPem } from './cert-info.ts';
import type { MeshContext } from './context.ts';
import { ownerBlock } from './addresses.ts';
import { assertEndpoint } from './endpoint.ts';
import { checkMembers } from './identity.ts';
import { assertNotExpired, decodeInvite, joinProof, macEqual, replyMac } from './invite-code.ts';
import type { MeshState } from './mesh-state.ts';

const ENROL_TIMEOUT_MS = 15_000;

/** Turns the inviter's error reply into the same error class here, so the user sees its reason. */
function remoteError(status: number, body: unknown): StationError {
  const err = (body as { error?: { code?: string; message?: string } })?.error;
  const code = err?.code ?? 'MESH_JOIN_FAILED';
  const message = `the inviting station refused: ${err?.message ?? `HTTP ${status}`}`;
  if (status === 409) return new ConflictError(code, message);
  if (status === 403 || status === 401) return new ForbiddenError(code, message);
  if (status === 400) return new ValidationError(code, message);
  return new UnavailableError(code, message);
}

export async function joinMesh(ctx: MeshContext, code: string): Promise<void> {
  const invite = decodeInvite(code);
  assertNotExpired(invite.expiresAt, ctx.now());
  if (ctx.doc.get().role !== 'none')
    throw new ConflictError('MESH_ALREADY_MEMBER', `this station is already in the mesh of ${ctx.doc.get().owner}; leave it first`);
  const { paths, cert, config } = ctx;
  if (config.meshPublicEndpoint) assertEndpoint(config.meshPublicEndpoint, 'STATION_MESH_PUBLIC_ENDPOINT');
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const newKey = `${paths.hostKey}.new`;
  const newPub = `${paths.hostPub}.new`;
  await cert.keygen(newKey, newPub);
  try {
    const publicKey = await readFile(newPub, 'utf8');
    const fields = {
      inviteId: invite.id,
      name: config.name,
      publicKey,
      nonce: randomBytes(16).toString('base64url'),
      endpoint: config.meshPublicEndpoint,
      apiPort: config.httpPort,
    };
    const request: EnrolRequest = { ...fields, proof: joinProof(invite.secret, fields) };
    let reply: EnrolReply | undefined;
    const failures: string[] = [];
    for (const api of invite.api) {
      let response: Response;
      try {
        response = await fetch(`${api.replace(/\/$/, '')}/api/v1/mesh/enrol`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(ENROL_TIMEOUT_MS),
        });
      } catch (error) {
        failures.push(`${api}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
        continue;
      }
      const body = await response.json().catch(() => undefined);
      if (!response.ok) throw remoteError(response.status, body);
      reply = body as EnrolReply;
      break;
    }
    if (!reply) throw new UnavailableError('MESH_INVITER_UNREACHABLE', `cannot reach the inviting station (${failures.join('; ')})`);
    if (typeof reply.payload !== 'string' || typeof reply.mac !== 'string' || !macEqual(replyMac(invite.secret, fields.nonce, reply.payload), reply.mac)) {
      throw new ForbiddenError('MESH_REPLY_FORGED', 'the reply is not authenticated by the invite secret: not the inviting station');
    }
    const payload = JSON.parse(reply.payload) as EnrolPayload;
    // Pin the CA to the fingerprint in the code, and check the certificate is ours and signed by it.
    const cas = await cert.inspect(payload.ca);
    const ca = cas.find((c) => c.isCa && c.fingerprint === invite.caFingerprint);
    if (!ca || splitPem(payload.ca).length !== 1)
      throw new ForbiddenError('MESH_CA_MISMATCH', 'the CA received does not match the fingerprint in the invite code');
    // The members' records go into nebula.yml: only well-formed ones in the owner's range.
    checkMembers(payload.members, ownerBlock(ca.fingerprint));
    const [mine] = await cert.inspect(payload.certificate);
    if (!mine || mine.publicKey !== publicKeyHex(publicKey) || mine.name !== config.name || !(await cert.verify(payload.ca, payload.certificate))) {
      throw new ForbiddenError('MESH_CERT_MISMATCH', "the certificate received is not for this station's key or not signed by the CA");
    }
    await writeFile(paths.hostCrt, payload.certificate, { mode: 0o600 });
    await rename(newKey, paths.hostKey);
    await rename(newPub, paths.hostPub);
    const now = ctx.now().toISOString();
    await ctx.doc.update((s) => {
      Object.assign(s, {
        role: 'member',
        owner: payload.owner,
        name: mine.name,
        address: mine.ips[0]!.split('/')[0]!,
        certFingerprint: mine.fingerprint,
        caFingerprint: ca.fingerprint,
        caPem: payload.ca,
        authority: payload.authority,
        block: '',
        nodeSubnet: mine.subnets[0] ?? '',
        members: payload.members,
        invites: [],
        blocklist: payload.blocklist,
        joinedAt: now,
        syncedAt: now,
        revokedAt: null,
      } satisfies Partial<MeshState>);
    });
    ctx.events.publish('mesh.joined', { owner: payload.owner, address: mine.ips[0] });
    await ctx.apply();
  } finally {
    await rm(newKey, { force: true });
    await rm(newPub, { force: true });
  }
}
