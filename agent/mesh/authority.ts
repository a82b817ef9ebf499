// The owner's authority: its CA (key 0600, never sent anywhere), invites, enrolment of joining
// stations, revocation and the directory members fetch over the mesh.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { allocateAddress, allocateNodeSubnet, MESH_NETWORK, MESH_PREFIX_LENGTH, ownerBlock, ownerNodeBlock } from './addresses.ts';
import { encryptCa, type CaExport } from './ca-export.ts';
import { ensureOwnerDiskKey } from '../disk/owner-key.ts';
import { assertEndpoint, isPort } from './endpoint.ts';
import { publicKeyHex } from './cert-info.ts';
import type { MeshContext } from './context.ts';
import { SerialQueue } from '../lib/serial-queue.ts';
import { groupsFor } from '../lib/cert-groups.ts';
import { assertNotExpired, encodeInvite, type JoinRequestFields, joinProof, macEqual, replyMac } from './invite-code.ts';
import { lighthousesOf, type MemberRecord, type MeshState } from './mesh-state.ts';

export const OWNER_PATTERN = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const DEFAULT_INVITE_SECONDS = 3600;

export interface EnrolRequest extends JoinRequestFields {
  proof: string;
}
export interface EnrolReply {
  payload: string;
  mac: string;
}
/** What a joining station receives (the JSON text inside EnrolReply.payload). */
export interface EnrolPayload {
  owner: string;
  certificate: string;
  ca: string;
  caFingerprint: string;
  authority: { name: string; address: string; apiPort: number };
  members: MemberRecord[];
  blocklist: string[];
}

export interface Directory {
  owner: string;
  caFingerprint: string;
  authority: string;
  lighthouses: { name: string; address: string; endpoints: string[] }[];
  members: MemberRecord[];
  blocklist: string[];
  /** members' addresses the authority reaches over the mesh right now */
  online: string[];
  /** the owner's disk key (agent/disk/owner-key.ts): only members get a directory, only over the mesh */
  diskKey?: string;
}

/** The newest record of a name (a re-admitted name has older, revoked ones). */
const latest = (members: MemberRecord[], name: string): MemberRecord | undefined => members.filter((m) => m.name === name).at(-1);

export class MeshAuthority {
  private readonly ctx: MeshContext;
  private readonly lock = new SerialQueue();

  constructor(ctx: MeshContext) {
    this.ctx = ctx;
  }

  private state(): MeshState {
    return this.ctx.doc.get();
  }

  private assertAuthority(): void {
    const s = this.state();
    if (s.role !== 'authority') {
      throw new ConflictError(
        'MESH_NOT_AUTHORITY',
        s.role === 'none'
          ? 'this station is in no mesh; make one with "station mesh create --owner NAME"'
          : `only the owner's authority (${s.authority?.name ?? 'unknown'}) can do this`,
      );
    }
  }

  /** Makes the owner's CA here and the station's own certificate; a lighthouse when it has an endpoint. */
  async create(owner: string): Promise<void> {
    if (!OWNER_PATTERN.test(owner)) throw new ValidationError('MESH_OWNER_INVALID', 'the owner name must be lower-case letters, digits and "-" (at most 32)');
    if (this.ctx.config.meshPublicEndpoint) assertEndpoint(this.ctx.config.meshPublicEndpoint, 'STATION_MESH_PUBLIC_ENDPOINT');
    return this.lock.run(async () => {
      if (this.state().role !== 'none')
        throw new ConflictError('MESH_ALREADY_MEMBER', `this station is already in the mesh of ${this.state().owner}; leave it first`);
      const { paths, cert, config } = this.ctx;
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      // The CA is limited to the mesh and to the owner's node subnets: Nebula refuses any certificate
      // of it outside them. (It cannot be limited to the owner's /16: Nebula 1.6 also requires a
      // certificate's netmask to be within the CA's, and certificates carry the whole /10 so that
      // stations of every owner in a community reach each other. That /16 is bound to the CA by
      // each station's firewall instead: nebula-config.ts, ca-ranges.ts.)
      const nodeBlock = ownerNodeBlock(config.meshNodePool, randomBytes(1).toString('hex'));
      await cert.createCa(`station mesh ${owner}`, paths.caKey, paths.caCrt, { ips: [MESH_NETWORK], subnets: [nodeBlock] });
      // The owner's disk key (the password of every copy of the owner's nodes) is the authority's too.
      await ensureOwnerDiskKey(config.stateDir);
      const caPem = await readFile(paths.caCrt, 'utf8');
      const [ca] = await cert.print(paths.caCrt);
      const block = ownerBlock(ca!.fingerprint);
      const address = allocateAddress(block, []);
      const nodeSubnet = allocateNodeSubnet(nodeBlock, []);
      const lighthouse = config.meshPublicEndpoint !== '';
      await cert.keygen(paths.hostKey, paths.hostPub);
      const certificate = await cert.sign({
        caKey: paths.caKey,
        caCrt: paths.caCrt,
        name: config.name,
        ip: `${address}/${MESH_PREFIX_LENGTH}`,
        groups: groupsFor(owner, lighthouse),
        publicKeyPem: await readFile(paths.hostPub, 'utf8'),
        subnets: [nodeSubnet],
      });
      await writeFile(paths.hostCrt, certificate, { mode: 0o600 });
      const [host] = await cert.print(paths.hostCrt);
      const now = this.ctx.now().toISOString();
      await this.ctx.doc.update((s) => {
        Object.assign(s, {
          role: 'authority',
          owner,
          name: config.name,
          address,
          certFingerprint: host!.fingerprint,
          caFingerprint: ca!.fingerprint,
          caPem,
          authority: { name: config.name, address, apiPort: config.httpPort },
          block,
          nodeBlock,
          nodeSubnet,
          invites: [],
          blocklist: [],
          joinedAt: now,
          syncedAt: now,
          revokedAt: null,
          members: [
            {
              name: config.name,
              address,
              owner,
              fingerprint: host!.fingerprint,
              lighthouse,
              endpoints: lighthouse ? [config.meshPublicEndpoint] : [],
              apiPort: config.httpPort,
              nodeSubnet,
              joinedAt: now,
            },
          ],
        } satisfies Partial<MeshState>);
      });
      this.ctx.events.publish('mesh.created', { owner, address });
      await this.ctx.apply();
    });
  }

  async invite(opts: { expiresInSeconds?: number; api: string[] }): Promise<{ code: string; id: string; expiresAt: string }> {
    this.assertAuthority();
    const s = this.state();
    const now = this.ctx.now();
    const seconds = opts.expiresInSeconds ?? DEFAULT_INVITE_SECONDS;
    const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const self = s.members.find((m) => m.address === s.address);
    const code = encodeInvite({
      id,
      secret,
      owner: s.owner,
      inviter: s.name,
      caFingerprint: s.caFingerprint,
      api: opts.api,
      nebula: self?.endpoints ?? [],
      expiresAt,
    });
    await this.ctx.doc.update((d) => {
      // Forget secrets of invites that are used or long expired: they can never be accepted again.
      d.invites = d.invites.filter((i) => Date.parse(i.expiresAt) > now.getTime() - 86_400_000).map((i) => (i.usedAt ? { ...i, secret: '' } : i));
      d.invites.push({ id, secret, createdAt: now.toISOString(), expiresAt });
    });
    return { code, id, expiresAt };
  }

  /** A joining station proves the invite secret; it gets its certificate, the CA and the members. */
  async enrol(req: EnrolRequest): Promise<EnrolReply> {
    return this.lock.run(async () => {
      this.assertAuthority();
      const invite = this.state().invites.find((i) => i.id === req.inviteId);
      if (!invite) throw new ForbiddenError('MESH_INVITE_UNKNOWN', 'this invite is not known to the inviting station');
      if (invite.usedAt)
        throw new ConflictError(
          'MESH_INVITE_USED',
          `this invite was already used (by ${invite.usedBy} at ${invite.usedAt}); ask for a new one with "station mesh invite"`,
        );
      if (!macEqual(joinProof(invite.secret, req), req.proof))
        throw new ForbiddenError('MESH_INVITE_PROOF', 'the invite proof does not match: the code is damaged or not this one');
      // What the joiner says about itself reaches every station's nebula.yml and how others call it.
      if (req.endpoint !== '') assertEndpoint(req.endpoint, "the joining station's endpoint");
      if (!isPort(req.apiPort))
        throw new ValidationError('MESH_API_PORT_INVALID', `the joining station's API port ${JSON.stringify(req.apiPort)} is not 1..65535`);
      assertNotExpired(invite.expiresAt, this.ctx.now());
      if (!OWNER_PATTERN.test(req.name) && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(req.name))
        throw new ValidationError('MESH_NAME_INVALID', 'the station name must be a DNS label');
      const s = this.state();
      if (s.members.some((m) => m.name === req.name && !m.revokedAt))
        throw new ConflictError('MESH_NAME_TAKEN', `a station named ${req.name} is already in this mesh; give the new station another STATION_NAME`);
      // A name the owner revoked stays out (whoever holds it now, e.g. a stolen station with a new
      // key) until the owner re-admits it. A station that left by itself may be invited again.
      const revoked = s.members.find((m) => m.name === req.name && m.revokedAt && !m.readmittedAt && !m.leftAt);
      if (revoked) {
        throw new ConflictError(
          'MESH_NAME_REVOKED',
          `the station named ${req.name} was revoked at ${revoked.revokedAt}; it cannot join again unless the owner re-admits the name`,
        );
      }
      publicKeyHex(req.publicKey);
      const { paths, cert } = this.ctx;
      // Revoked stations keep their address in the registry, so it is never handed out again.
      const address = allocateAddress(
        s.block,
        s.members.map((m) => m.address),
      );
      const nodeSubnet = allocateNodeSubnet(
        this.nodeBlock(),
        s.members.flatMap((m) => (m.nodeSubnet ? [m.nodeSubnet] : [])),
      );
      const lighthouse = req.endpoint !== '';
      const certificate = await cert.sign({
        caKey: paths.caKey,
        caCrt: paths.caCrt,
        name: req.name,
        ip: `${address}/${MESH_PREFIX_LENGTH}`,
        groups: groupsFor(s.owner, lighthouse),
        publicKeyPem: req.publicKey,
        subnets: [nodeSubnet],
      });
      const [info] = await cert.inspect(certificate);
      const now = this.ctx.now().toISOString();
      const next = await this.ctx.doc.update((d) => {
        const inv = d.invites.find((i) => i.id === req.inviteId)!;
        inv.usedAt = now;
        inv.usedBy = req.name;
        inv.secret = '';
        d.members.push({
          name: req.name,
          address,
          owner: d.owner,
          fingerprint: info!.fingerprint,
          lighthouse,
          endpoints: lighthouse ? [req.endpoint] : [],
          apiPort: req.apiPort,
          nodeSubnet,
          joinedAt: now,
        });
      });
      this.ctx.events.publish('mesh.member.joined', { name: req.name, address });
      await this.ctx.apply();
      const payload: EnrolPayload = {
        owner: next.owner,
        certificate,
        ca: next.caPem,
        caFingerprint: next.caFingerprint,
        authority: next.authority!,
        members: next.members,
        blocklist: next.blocklist,
      };
      const text = JSON.stringify(payload);
      return { payload: text, mac: replyMac(invite.secret, req.nonce, text) };
    });
  }

  /** The owner's node range: kept in the state, so a later change of the configured pool moves nobody. */
  private nodeBlock(): string {
    const s = this.state();
    return s.nodeBlock || ownerNodeBlock(this.ctx.config.meshNodePool, s.caFingerprint);
  }

  /**
   * Revokes a name: every certificate ever issued for it is blocked (a re-admitted name has had
   * several), its live record is marked revoked, and it cannot enrol again until re-admitted.
   * `left`: the station itself announced it leaves; its certificate is blocked the same way, but
   * the name may be invited again. Runs under the enrolment lock, so an enrolment under way cannot
   * slip a certificate past it.
   */
  async revoke(name: string, options: { left?: boolean } = {}): Promise<MemberRecord> {
    return this.lock.run(async () => {
      this.assertAuthority();
      const s = this.state();
      const records = s.members.filter((m) => m.name === name);
      if (!records.length) throw new NotFoundError('MESH_PEER_NOT_FOUND', `no station named ${name} in this mesh`);
      if (name === s.name) throw new ConflictError('MESH_REVOKE_SELF', 'the authority cannot revoke itself');
      const unblocked = records.some((m) => !m.revokedAt || m.readmittedAt || (m.leftAt && !options.left) || !s.blocklist.includes(m.fingerprint));
      if (unblocked) {
        const now = this.ctx.now().toISOString();
        await this.ctx.doc.update((d) => {
          for (const m of d.members.filter((x) => x.name === name)) {
            if (options.left) {
              if (!m.revokedAt) m.leftAt = now;
            } else {
              // The owner's revocation overrides a leave or an earlier re-admission.
              delete m.leftAt;
              delete m.readmittedAt;
            }
            m.revokedAt ??= now;
            if (!d.blocklist.includes(m.fingerprint)) d.blocklist.push(m.fingerprint);
          }
        });
        this.ctx.events.publish('mesh.member.revoked', { name });
        await this.ctx.apply();
      }
      return latest(this.state().members, name)!;
    });
  }

  /**
   * The owner lets a revoked name join again (with a new invite, a new key and a new address). Its
   * old certificates stay blocked; revoking it again blocks the new one too.
   */
  async readmit(name: string): Promise<MemberRecord> {
    return this.lock.run(async () => {
      this.assertAuthority();
      const records = this.state().members.filter((m) => m.name === name);
      if (!records.length) throw new NotFoundError('MESH_PEER_NOT_FOUND', `no station named ${name} in this mesh`);
      if (records.some((m) => !m.revokedAt)) throw new ConflictError('MESH_NAME_NOT_REVOKED', `${name} is a member now: only a revoked name is re-admitted`);
      const now = this.ctx.now().toISOString();
      await this.ctx.doc.update((d) => {
        for (const m of d.members.filter((x) => x.name === name)) m.readmittedAt ??= now;
      });
      this.ctx.events.publish('mesh.member.readmitted', { name });
      return latest(this.state().members, name)!;
    });
  }

  directory(online: string[]): Directory {
    const s = this.state();
    return {
      owner: s.owner,
      caFingerprint: s.caFingerprint,
      authority: s.name,
      lighthouses: lighthousesOf({ ...s, trusted: [] }),
      members: s.members,
      blocklist: s.blocklist,
      online,
    };
  }

  async exportCa(passphrase: string): Promise<CaExport> {
    this.assertAuthority();
    const { paths } = this.ctx;
    const diskKey = await ensureOwnerDiskKey(this.ctx.config.stateDir);
    return encryptCa(this.state().owner, await readFile(paths.caKey, 'utf8'), await readFile(paths.caCrt, 'utf8'), passphrase, diskKey);
  }
}
