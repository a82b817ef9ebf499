// station mesh create|invite|join|peers|leave|revoke|trust|export
import { readFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { json, need, readCommand } from '../command.ts';
import { CliError } from '../client.ts';
import { keyValues, table } from '../format.ts';
import type { MeshInfo } from '../../../agent/mesh/mesh-subsystem.ts';
import type { PeerView } from '../../../agent/mesh/peers.ts';

function showMesh(m: MeshInfo): string {
  if (m.role === 'none') return 'this station is in no mesh (station mesh create --owner NAME, or station mesh join CODE)';
  return keyValues([
    ['mesh', `${m.owner} (${m.state})`],
    ['station', `${m.name} ${m.address}${m.lighthouse ? ' (lighthouse, relay)' : ''}`],
    ['role', m.role === 'authority' ? "authority (holds the owner's CA)" : `member (authority: ${m.authority})`],
    ['nodes', m.nodeSubnet ? `${m.nodeSubnet} (routed to this station over the mesh)` : "no node subnet in this station's certificate"],
    ['ca', m.caFingerprint],
    ['lighthouses', m.lighthouses.map((l) => `${l.name} ${l.address} ${l.endpoints.join(',')}`).join('; ') || 'none'],
    ['members', m.members],
    ['trusts', m.trusted.map((t) => t.owner).join(', ') || 'only its own owner'],
    ['nebula', m.nebula.running ? `running (pid ${m.nebula.pid}, ${m.nebula.tunDev})` : 'not running'],
  ]);
}

export const MESH_COMMANDS: Command[] = [
  {
    words: ['mesh'],
    summary: "this station's mesh",
    usage: 'mesh',
    async run(args, client) {
      const m = await client.get<MeshInfo>('/mesh');
      return args.json ? json(m) : showMesh(m);
    },
  },
  {
    words: ['mesh', 'create'],
    summary: "make the owner's authority here and join it",
    usage: 'mesh create --owner NAME',
    async run(args, client) {
      const m = await client.post<MeshInfo>('/mesh', { owner: need(args.flags.owner, 'mesh create --owner NAME') });
      return args.json ? json(m) : showMesh(m);
    },
  },
  {
    words: ['mesh', 'invite'],
    summary: 'print a one-time invite code for a new station',
    usage: 'mesh invite [--expires SECONDS]',
    async run(args, client) {
      const body = args.flags.expires ? { expiresInSeconds: Number(args.flags.expires) } : {};
      const r = await client.post<{ code: string; expiresAt: string }>('/mesh/invites', body);
      return args.json ? json(r) : `${r.code}\n\nvalid once, until ${r.expiresAt}: on the new station run\n  station mesh join ${r.code.slice(0, 12)}...`;
    },
  },
  {
    words: ['mesh', 'join'],
    summary: 'join a mesh with an invite code',
    usage: 'mesh join CODE',
    async run(args, client) {
      const m = await client.post<MeshInfo>('/mesh/join', { code: need(args.positional[0], 'mesh join CODE') });
      return args.json ? json(m) : showMesh(m);
    },
  },
  readCommand<{ peers: PeerView[] }>(['mesh', 'peers'], "the owner's other stations: online, handshake, latency", '/mesh/peers', ({ peers }) =>
    peers.length
      ? table(
          ['NAME', 'OWNER', 'ADDRESS', 'NODES', 'ONLINE', 'LATENCY', 'PATH', 'LAST HANDSHAKE'],
          peers.map((p) => [
            p.name + (p.lighthouse ? ' (lighthouse)' : ''),
            p.owner,
            p.address,
            p.nodeSubnet ?? '-',
            p.revoked ? 'revoked' : p.online ? 'yes' : 'no',
            p.latencyMs === null ? '-' : `${p.latencyMs.toFixed(1)} ms`,
            p.via ? `relay ${p.via}` : 'direct',
            p.lastHandshake ?? '-',
          ]),
        )
      : 'no peers',
  ),
  {
    words: ['mesh', 'revoke'],
    summary: 'block a station of the mesh (authority)',
    usage: 'mesh revoke NAME',
    async run(args, client) {
      const r = await client.post(`/mesh/peers/${encodeURIComponent(need(args.positional[0], 'mesh revoke NAME'))}/revoke`, {});
      return args.json ? json(r) : `revoked; members drop it within a minute`;
    },
  },
  {
    words: ['mesh', 'readmit'],
    summary: 'let a revoked station join again with a new invite (authority)',
    usage: 'mesh readmit NAME',
    async run(args, client) {
      const r = await client.post(`/mesh/peers/${encodeURIComponent(need(args.positional[0], 'mesh readmit NAME'))}/readmit`, {});
      return args.json ? json(r) : 'readmitted; invite it again to let it join (its old certificates stay blocked)';
    },
  },
  {
    words: ['mesh', 'leave'],
    summary: "leave the mesh and delete this station's mesh key",
    usage: 'mesh leave',
    async run(args, client) {
      const m = await client.post<MeshInfo>('/mesh/leave', {});
      return args.json ? json(m) : 'left the mesh';
    },
  },
  {
    words: ['mesh', 'trust'],
    summary: "trust another owner's stations (a community)",
    usage: 'mesh trust --from URL|FILE [--allow PORT/PROTO,...]  (or --owner NAME --ca FILE)',
    async run(args, client) {
      const allow =
        typeof args.flags.allow === 'string'
          ? args.flags.allow.split(',').map((a) => {
              const [port, proto] = a.split('/');
              return { port: port!, proto: (proto ?? 'tcp') as 'tcp' };
            })
          : [];
      let body: { owner: string; ca: string; lighthouses?: MeshInfo['lighthouses'] };
      if (typeof args.flags.from === 'string') {
        // The other owner's station's GET /mesh (public): its owner, CA certificate and lighthouses.
        const from = args.flags.from;
        const info = /^https?:\/\//.test(from)
          ? ((await (await fetch(`${from.replace(/\/$/, '')}/api/v1/mesh`, { signal: AbortSignal.timeout(10_000) })).json()) as MeshInfo)
          : (JSON.parse(readFileSync(from, 'utf8')) as MeshInfo);
        if (!info.owner || !info.caPem) throw new CliError(`${from} does not describe a station in a mesh`);
        body = { owner: info.owner, ca: info.caPem, lighthouses: info.lighthouses };
      } else {
        body = {
          owner: need(args.flags.owner, 'mesh trust --from URL|FILE, or --owner NAME --ca FILE'),
          ca: readFileSync(need(args.flags.ca, 'mesh trust --owner NAME --ca FILE'), 'utf8'),
        };
      }
      const m = await client.post<MeshInfo>('/mesh/trust', { ...body, allow });
      return args.json ? json(m) : showMesh(m);
    },
  },
  {
    words: ['mesh', 'export'],
    summary: "the owner's CA encrypted with a passphrase (backup)",
    usage: 'mesh export --passphrase-file FILE',
    async run(_args, client) {
      const passphrase = readFileSync(need(_args.flags['passphrase-file'], 'mesh export --passphrase-file FILE'), 'utf8').trim();
      return json(await client.post('/mesh/authority/export', { passphrase }));
    },
  },
];
