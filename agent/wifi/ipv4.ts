// IPv4 subnet membership for the hotspot check (addresses as Node reports them, IPv4-mapped
// IPv6 included). Anything that is not IPv4 is in no IPv4 subnet.
const toInt = (ip: string): number | null => {
  const parts = ip.replace(/^::ffff:/i, '').split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
};

/** True when `address` lies in `cidr` (e.g. 10.42.0.23 in 10.42.0.1/24). */
export function sameSubnet4(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = toInt(address);
  const b = toInt(base ?? '');
  const prefix = Number(bits);
  if (a === null || b === null || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}
