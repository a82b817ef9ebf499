// NetworkManager through nmcli, run by the agent's one command runner (argv, LC_ALL=C, timeout).
// node-wifi's linux backend issues the same nmcli commands, but importing it sets LANG/LC_ALL for the
// whole agent process, so the commands are issued here and parsed by pure functions (nmcli-parse.ts).
// Passwords never go on nmcli's command line (readable by anyone in /proc/PID/cmdline): profiles are
// made without them and brought up with a `passwd-file` (passwd-file.ts).
import {
  parseWifiList,
  parseConnections,
  parseDevices,
  parseAddedUuid,
  parseIp4Addresses,
  nmcliError,
  WIFI_LIST_FIELDS,
  CONNECTION_FIELDS,
  DEVICE_FIELDS,
  type WifiNetwork,
  type SavedConnection,
  type NetDevice,
} from './nmcli-parse.ts';
import { withPasswdFile } from './passwd-file.ts';

/** The command runner this needs (the agent passes its exec.ts runner; hardware/ does not import agent/). */
export type NmcliRunner = (
  argv: readonly string[],
  options?: { timeoutMs?: number; allowFailure?: boolean; secrets?: readonly string[] },
) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** How a WPA network authenticates: WPA/WPA2 personal, or WPA3 personal (SAE). */
export type KeyManagement = 'wpa-psk' | 'sae';

const PSK = '802-11-wireless-security.psk';
// WPA2 only (RSN with CCMP), as `nmcli device wifi hotspot` sets it up, minus the password on argv.
const HOTSPOT_SECURITY = [
  '802-11-wireless-security.key-mgmt',
  'wpa-psk',
  '802-11-wireless-security.proto',
  'rsn',
  '802-11-wireless-security.pairwise',
  'ccmp',
  '802-11-wireless-security.group',
  'ccmp',
];

export const HOTSPOT_CONNECTION = 'station-setup-hotspot';

export class Nmcli {
  private readonly run: NmcliRunner;
  constructor(run: NmcliRunner) {
    this.run = run;
  }

  private async nmcli(args: string[], timeoutMs = 20_000, secrets: readonly string[] = []): Promise<string> {
    const out = await this.run(['nmcli', ...args], { timeoutMs, allowFailure: true, secrets });
    if (out.exitCode !== 0) throw new Error(nmcliError(out.stderr));
    return out.stdout;
  }

  /** `connection up` with the secrets in a passwd-file, never on the command line. */
  private async upWithSecrets(ref: string[], secrets: Record<string, string>, timeoutMs = 60_000): Promise<void> {
    if (!Object.keys(secrets).length) {
      await this.nmcli(['connection', 'up', ...ref], timeoutMs);
      return;
    }
    await withPasswdFile(secrets, (file) => this.nmcli(['connection', 'up', ...ref, 'passwd-file', file], timeoutMs, Object.values(secrets)));
  }

  async devices(): Promise<NetDevice[]> {
    return parseDevices(await this.nmcli(['-t', '-f', DEVICE_FIELDS.join(','), 'device', 'status']));
  }

  async connections(): Promise<SavedConnection[]> {
    return parseConnections(await this.nmcli(['-t', '-f', CONNECTION_FIELDS.join(','), 'connection', 'show']));
  }

  async scan(iface: string, rescan: boolean): Promise<WifiNetwork[]> {
    return parseWifiList(
      await this.nmcli(['-t', '-f', WIFI_LIST_FIELDS.join(','), 'device', 'wifi', 'list', 'ifname', iface, '--rescan', rescan ? 'yes' : 'no'], 40_000),
    );
  }

  /**
   * Joins a network, saving a profile named after the SSID. The new profile replaces older ones of
   * that name only once it has connected; a join that fails removes it and leaves them as they were.
   */
  async connect(iface: string, ssid: string, password?: string, keyManagement: KeyManagement = 'wpa-psk'): Promise<void> {
    const security = password ? ['802-11-wireless-security.key-mgmt', keyManagement] : [];
    const uuid = parseAddedUuid(
      await this.nmcli(['connection', 'add', 'type', 'wifi', 'ifname', iface, 'con-name', ssid, 'autoconnect', 'yes', 'ssid', ssid, ...security]),
    );
    try {
      await this.upWithSecrets(['uuid', uuid], password ? { [PSK]: password } : {});
    } catch (error) {
      await this.nmcli(['connection', 'delete', 'uuid', uuid]).catch(() => undefined);
      throw error;
    }
    for (const older of (await this.connections()).filter((c) => c.name === ssid && c.uuid !== uuid)) {
      await this.nmcli(['connection', 'delete', 'uuid', older.uuid]).catch(() => undefined);
    }
  }

  /** The IPv4 addresses (CIDR) NetworkManager reports on a device (empty when it has none). */
  async addresses(iface: string): Promise<string[]> {
    return parseIp4Addresses(await this.nmcli(['-t', '-f', 'IP4.ADDRESS', 'device', 'show', iface]));
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

  /** A WPA2 access point in NetworkManager's shared mode (it runs DHCP and DNS for the clients). */
  async hotspot(iface: string, ssid: string, passphrase: string): Promise<void> {
    await this.nmcli(['connection', 'delete', 'id', HOTSPOT_CONNECTION]).catch(() => undefined);
    await this.nmcli([
      'connection',
      'add',
      'type',
      'wifi',
      'ifname',
      iface,
      'con-name',
      HOTSPOT_CONNECTION,
      'autoconnect',
      'no',
      'ssid',
      ssid,
      '802-11-wireless.mode',
      'ap',
      'ipv4.method',
      'shared',
      'ipv6.method',
      'ignore',
      ...HOTSPOT_SECURITY,
    ]);
    await this.upWithSecrets(['id', HOTSPOT_CONNECTION], { [PSK]: passphrase });
  }
}
