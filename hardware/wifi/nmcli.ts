// NetworkManager through nmcli, run by the agent's one command runner (argv, LC_ALL=C, timeout).
// node-wifi's linux backend issues the same nmcli commands, but importing it sets LANG/LC_ALL for the
// whole agent process, so the commands are issued here and parsed by pure functions (nmcli-parse.ts).
import { parseWifiList, parseConnections, parseDevices, nmcliError, WIFI_LIST_FIELDS, CONNECTION_FIELDS, DEVICE_FIELDS, type WifiNetwork, type SavedConnection, type NetDevice } from './nmcli-parse.ts';

/** The command runner this needs (the agent passes its exec.ts runner; hardware/ does not import agent/). */
export type NmcliRunner = (argv: readonly string[], options?: { timeoutMs?: number; allowFailure?: boolean }) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

export const HOTSPOT_CONNECTION = 'station-setup-hotspot';

export class Nmcli {
  private readonly run: NmcliRunner;
  constructor(run: NmcliRunner) {
    this.run = run;
  }

  private async nmcli(args: string[], timeoutMs = 20_000): Promise<string> {
    const out = await this.run(['nmcli', ...args], { timeoutMs, allowFailure: true });
    if (out.exitCode !== 0) throw new Error(nmcliError(out.stderr));
    return out.stdout;
  }

  async devices(): Promise<NetDevice[]> {
    return parseDevices(await this.nmcli(['-t', '-f', DEVICE_FIELDS.join(','), 'device', 'status']));
  }

  async connections(): Promise<SavedConnection[]> {
    return parseConnections(await this.nmcli(['-t', '-f', CONNECTION_FIELDS.join(','), 'connection', 'show']));
  }

  async scan(iface: string, rescan: boolean): Promise<WifiNetwork[]> {
    return parseWifiList(await this.nmcli(['-t', '-f', WIFI_LIST_FIELDS.join(','), 'device', 'wifi', 'list', 'ifname', iface, '--rescan', rescan ? 'yes' : 'no'], 40_000));
  }

  /** Connects (making a saved profile named after the SSID); the password never appears in logs. */
  async connect(iface: string, ssid: string, password?: string): Promise<void> {
    const args = ['device', 'wifi', 'connect', ssid, 'ifname', iface];
    if (password) args.push('password', password);
    await this.nmcli(args, 60_000);
  }

  async up(name: string): Promise<void> {
    await this.nmcli(['connection', 'up', 'id', name], 60_000);
  }

  async down(name: string): Promise<void> {
    await this.nmcli(['connection', 'down', 'id', name]);
  }

  async forget(name: string): Promise<void> {
    await this.nmcli(['connection', 'delete', 'id', name]);
  }

  /** An open access point in NetworkManager's shared mode (it runs DHCP and DNS for the clients). */
  async hotspot(iface: string, ssid: string): Promise<void> {
    await this.nmcli(['connection', 'delete', 'id', HOTSPOT_CONNECTION]).catch(() => undefined);
    await this.nmcli(['connection', 'add', 'type', 'wifi', 'ifname', iface, 'con-name', HOTSPOT_CONNECTION, 'autoconnect', 'no', 'ssid', ssid,
      '802-11-wireless.mode', 'ap', 'ipv4.method', 'shared', 'ipv6.method', 'ignore']);
    await this.up(HOTSPOT_CONNECTION);
  }
}
