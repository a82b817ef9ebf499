// Parsers for `ip -j` output. Pure.

export interface LinkInfo {
  name: string;
  up: boolean;
  kind: string | null;
}

/** `ip -j -d link show dev X`: a JSON array with one object. */
export function parseIpLink(json: string): LinkInfo | null {
  const list = JSON.parse(json || '[]') as Array<{
    ifname: string;
    flags?: string[];
    operstate?: string;
    linkinfo?: { info_kind?: string };
  }>;
  const link = list[0];
  if (!link) return null;
  return { name: link.ifname, up: (link.flags ?? []).includes('UP'), kind: link.linkinfo?.info_kind ?? null };
}

/** `ip -j addr show dev X`: the IPv4 addresses as CIDR strings. */
export function parseIpv4Addresses(json: string): string[] {
  const list = JSON.parse(json || '[]') as Array<{ addr_info?: Array<{ family: string; local: string; prefixlen: number }> }>;
  return list.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`));
}
