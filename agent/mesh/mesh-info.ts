// What GET /mesh shows of this station's mesh, built from the state and Nebula's process (pure).
import { lighthousesOf, type MeshState } from './mesh-state.ts';

export interface MeshInfo {
  state: 'none' | 'starting' | 'up' | 'down' | 'revoked';
  role: MeshState['role'];
  owner: string | null;
  name: string;
  address: string | null;
  caFingerprint: string | null;
  authority: string | null;
  lighthouse: boolean;
  lighthouses: { name: string; address: string; endpoints: string[] }[];
  trusted: { owner: string; fingerprint: string }[];
  members: number;
  joinedAt: string | null;
  syncedAt: string | null;
  nebula: { running: boolean; pid: number | null; restarts: number; tunDev: string };
  caPem: string | null;
  nodeSubnet: string | null;
}

export function meshInfo(s: MeshState, nebula: MeshInfo['nebula'], stationName: string): MeshInfo {
  const self = s.members.find((m) => m.address === s.address);
  const state = s.role === 'none' ? 'none' : s.revokedAt ? 'revoked' : nebula.running ? 'up' : 'down';
  return {
    state,
    role: s.role,
    owner: s.owner || null,
    name: s.name || stationName,
    address: s.address || null,
    caFingerprint: s.caFingerprint || null,
    authority: s.authority?.name ?? null,
    lighthouse: self?.lighthouse ?? false,
    lighthouses: lighthousesOf(s),
    trusted: s.trusted.map((t) => ({ owner: t.owner, fingerprint: t.fingerprint })),
    members: s.members.filter((m) => !m.revokedAt).length,
    joinedAt: s.joinedAt,
    syncedAt: s.syncedAt,
    nebula,
    caPem: s.caPem || null,
    nodeSubnet: s.nodeSubnet || null,
  };
}

/** What a room that reads the mesh sees where the mesh is turned off (STATION_DISABLE=mesh): no mesh. */
export function meshOffInfo(stationName: string): MeshInfo {
  return {
    state: 'none',
    role: 'none',
    owner: null,
    name: stationName,
    address: null,
    caFingerprint: null,
    authority: null,
    lighthouse: false,
    lighthouses: [],
    trusted: [],
    members: 0,
    joinedAt: null,
    syncedAt: null,
    nebula: { running: false, pid: null, restarts: 0, tunDev: '' },
    caPem: null,
    nodeSubnet: null,
  };
}
