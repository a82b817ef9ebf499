// Is there a way out other than NetworkManager's devices? A default route counts (a box whose
// ethernet is set up by ifupdown, DHCP in an initramfs, or by hand shows "unmanaged" in nmcli).
// Read from /proc/net/route and /proc/net/ipv6_route (no process per look); the parsers are pure and
// tested on recorded tables (test/fixtures/default-route).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/** Interfaces of usable IPv4 default routes in /proc/net/route (header line, then tab-separated rows). */
export function ipv4DefaultInterfaces(table: string): string[] {
  const found: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const [iface, destination, , flags, , , , mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000') continue;
    const f = Number.parseInt(flags ?? '', 16);
    if (f & RTF_UP && !(f & RTF_REJECT)) found.push(iface);
  }
  return found;
}

/** Interfaces of usable IPv6 default routes in /proc/net/ipv6_route (the kernel's unreachable ones on lo are not). */
export function ipv6DefaultInterfaces(table: string): string[] {
  const found: string[] = [];
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destination, prefix, , , , , , , flags, iface] = fields;
    if (!/^0{32}$/.test(destination!) || prefix !== '00' || iface === 'lo') continue;
    const f = Number.parseInt(flags!, 16);
    if (f & RTF_UP && !(f & RTF_REJECT)) found.push(iface!);
  }
  return found;
}

/** The interfaces default routes leave through (IPv4 first), from `procNet` (normally /proc/net). */
export async function defaultRouteInterfaces(procNet = '/proc/net'): Promise<string[]> {
  const read = (name: string) => readFile(join(procNet, name), 'utf8').catch(() => '');
  const [v4, v6] = await Promise.all([read('route'), read('ipv6_route')]);
  return [...new Set([...ipv4DefaultInterfaces(v4), ...ipv6DefaultInterfaces(v6)])];
}
