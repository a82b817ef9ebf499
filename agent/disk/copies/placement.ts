// Where a node's copies go (pure). Candidates are the owner's other stations: not revoked, online,
// with free offered space. Existing copies stay where they are while their peer is healthy or gone
// for less than peerLostSeconds (a reboot is not a loss); a copy on a revoked station, one gone
// longer, or one found damaged is replaced. Never two copies on one station, never this station.
// With fewer candidates than wanted: as many as there are, and the reason for the page.

export interface PeerCandidate {
  name: string;
  online: boolean;
  revoked: boolean;
  /** since when (ms) this station has seen the peer offline; null while online */
  offlineSince: number | null;
  /** what its store said it can still take (its last grant); null when not asked yet */
  freeBytes: number | null;
  latencyMs: number | null;
}

export interface CurrentCopy {
  station: string;
  damaged?: boolean;
}

export interface PlacementInput {
  self: string;
  want: number;
  peers: PeerCandidate[];
  current: CurrentCopy[];
  now: number;
  peerLostMs: number;
  /** bytes a new copy needs at least (the node's size, roughly); a peer with less free is skipped */
  needBytes: number;
  /** stations that refused a grant or failed recently: skipped for new copies this round */
  avoid?: string[];
}

export interface Placement {
  keep: string[];
  add: string[];
  /** copies to give up on, and why (their repository stays on the peer: append-only) */
  drop: { station: string; why: 'lost' | 'revoked' | 'damaged' | 'gone' | 'surplus' }[];
  want: number;
  /** copies kept or to be made */
  have: number;
  /** why fewer than wanted; null when all are placed */
  reason: string | null;
}

export function placeCopies(input: PlacementInput): Placement {
  const peers = new Map(input.peers.filter((p) => p.name !== input.self).map((p) => [p.name, p]));
  const keep: string[] = [];
  const drop: Placement['drop'] = [];
  const seen = new Set<string>();
  for (const copy of input.current) {
    if (seen.has(copy.station) || copy.station === input.self) continue; // a second copy on one station is never kept
    seen.add(copy.station);
    const peer = peers.get(copy.station);
    if (!peer) drop.push({ station: copy.station, why: 'gone' });
    else if (peer.revoked) drop.push({ station: copy.station, why: 'revoked' });
    else if (copy.damaged) drop.push({ station: copy.station, why: 'damaged' });
    else if (!peer.online && peer.offlineSince !== null && input.now - peer.offlineSince >= input.peerLostMs) drop.push({ station: copy.station, why: 'lost' });
    else keep.push(copy.station);
  }
  for (const extra of keep.splice(Math.max(0, input.want))) drop.push({ station: extra, why: 'surplus' });

  const excluded = new Map<string, string>();
  const avoid = new Set(input.avoid ?? []);
  const candidates: PeerCandidate[] = [];
  for (const peer of [...peers.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (seen.has(peer.name)) continue;
    if (peer.revoked) excluded.set(peer.name, 'revoked');
    else if (!peer.online) excluded.set(peer.name, 'offline');
    else if (avoid.has(peer.name)) excluded.set(peer.name, 'refused or failing');
    else if (peer.freeBytes !== null && peer.freeBytes < input.needBytes) excluded.set(peer.name, 'no free offered space');
    else candidates.push(peer);
  }
  // most free space first (unknown counts as plenty: its grant will say), then the nearest
  candidates.sort((a, b) => (b.freeBytes ?? Number.MAX_SAFE_INTEGER) - (a.freeBytes ?? Number.MAX_SAFE_INTEGER) || (a.latencyMs ?? 1e9) - (b.latencyMs ?? 1e9));
  const add = candidates.slice(0, Math.max(0, input.want - keep.length)).map((p) => p.name);
  const have = keep.length + add.length;
  let reason: string | null = null;
  if (have < input.want) {
    const why = [...excluded].map(([name, what]) => `${name} ${what}`);
    const unable = drop.filter((d) => d.why !== 'surplus').map((d) => `${d.station} ${d.why}`);
    reason =
      `${have} of ${input.want} copies: ` +
      (peers.size === 0 ? 'this station has no other stations of its owner to copy to' : `only ${have} of the owner's other stations can take one`) +
      ([...why, ...unable].length ? ` (${[...unable, ...why].join(', ')})` : '');
  }
  return { keep, add, drop, want: input.want, have, reason };
}
