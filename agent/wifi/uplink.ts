// Which way out does the station have, besides the radio onboarding drives? Pure, on nmcli's device
// list and the default routes' interfaces. Any connected NetworkManager device counts (ethernet
// included: "connected" and "connected (externally)"), except loopback (NetworkManager 1.42 lists
// lo as "connected (externally)", recorded), the agent's own bridge, veth and tun devices, and the
// onboarding radio itself; so does a default route through anything but that radio.
import type { NetDevice } from '../../hardware/wifi/nmcli-parse.ts';

// Device types that never lead off the box (nmcli's TYPE column).
const LOCAL_TYPES = new Set(['loopback', 'bridge', 'tun', 'veth', 'dummy', 'wireguard']);

export const isConnected = (device: NetDevice | undefined): boolean => !!device && /^connected\b/.test(device.state);

/** The first other way out, or null: a connected device, else the interface of a default route. */
export function otherUplink(devices: readonly NetDevice[], radio: string | null, defaultRouteInterfaces: readonly string[]): string | null {
  const device = devices.find((d) => d.device !== radio && !LOCAL_TYPES.has(d.type) && isConnected(d));
  if (device) return device.device;
  const local = new Set(devices.filter((d) => LOCAL_TYPES.has(d.type)).map((d) => d.device));
  return defaultRouteInterfaces.find((iface) => iface !== radio && !local.has(iface) && iface !== 'lo') ?? null;
}
