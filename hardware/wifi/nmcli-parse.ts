// Pure parsers of `nmcli --terse` output. Terse mode separates fields with ':' and escapes a ':' or
// '\' inside a value with a backslash (BSSIDs come out as AA\:BB\:...). Field order is whatever the
// caller asked for with --fields, so every parser takes the list it was asked with.

/** Splits one terse line into fields, undoing nmcli's escaping. */
export function splitTerse(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

/** Rows of named fields; lines with the wrong number of fields are refused, not guessed at. */
export function parseTerse(stdout: string, fields: readonly string[]): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const values = splitTerse(line);
    if (values.length !== fields.length) throw new Error(`nmcli line has ${values.length} fields, expected ${fields.length} (${fields.join(',')}): ${line}`);
    rows.push(Object.fromEntries(fields.map((f, i) => [f, values[i]!])));
  }
  return rows;
}

export const WIFI_LIST_FIELDS = ['IN-USE', 'SSID', 'BSSID', 'MODE', 'CHAN', 'FREQ', 'SIGNAL', 'SECURITY'] as const;
export const CONNECTION_FIELDS = ['NAME', 'UUID', 'TYPE', 'DEVICE', 'AUTOCONNECT', 'TIMESTAMP'] as const;
export const DEVICE_FIELDS = ['DEVICE', 'TYPE', 'STATE', 'CONNECTION'] as const;

export interface WifiNetwork {
  ssid: string;
  bssid: string;
  signal: number;
  security: string;
  frequencyMHz: number | null;
  channel: number | null;
  inUse: boolean;
}

/** `nmcli -t -f IN-USE,SSID,BSSID,MODE,CHAN,FREQ,SIGNAL,SECURITY device wifi list`: one row per BSSID,
 * reduced to one entry per SSID (the strongest), hidden networks (empty SSID) dropped, strongest first. */
export function parseWifiList(stdout: string): WifiNetwork[] {
  const best = new Map<string, WifiNetwork>();
  for (const row of parseTerse(stdout, WIFI_LIST_FIELDS)) {
    if (!row.SSID || row.SSID === '--') continue;
    const net: WifiNetwork = {
      ssid: row.SSID,
      bssid: row.BSSID!,
      signal: Number(row.SIGNAL) || 0,
      security: row.SECURITY && row.SECURITY !== '--' ? row.SECURITY.trim() : '',
      frequencyMHz: Number.parseInt(row.FREQ!, 10) || null,
      channel: Number.parseInt(row.CHAN!, 10) || null,
      inUse: row['IN-USE'] === '*',
    };
    const prior = best.get(net.ssid);
    if (!prior || net.inUse || (!prior.inUse && net.signal > prior.signal)) best.set(net.ssid, { ...net, inUse: net.inUse || (prior?.inUse ?? false) });
  }
  return [...best.values()].sort((a, b) => Number(b.inUse) - Number(a.inUse) || b.signal - a.signal || a.ssid.localeCompare(b.ssid));
}

export interface SavedConnection {
  name: string;
  uuid: string;
  type: string;
  device: string | null;
  autoconnect: boolean;
  lastUsed: string | null;
}

/** `nmcli -t -f NAME,UUID,TYPE,DEVICE,AUTOCONNECT,TIMESTAMP connection show` */
export function parseConnections(stdout: string): SavedConnection[] {
  return parseTerse(stdout, CONNECTION_FIELDS).map((r) => ({
    name: r.NAME!,
    uuid: r.UUID!,
    type: r.TYPE!,
    device: r.DEVICE && r.DEVICE !== '--' ? r.DEVICE : null,
    autoconnect: r.AUTOCONNECT === 'yes',
    lastUsed: Number(r.TIMESTAMP) > 0 ? new Date(Number(r.TIMESTAMP) * 1000).toISOString() : null,
  }));
}

export interface NetDevice {
  device: string;
  type: string;
  state: string;
  connection: string | null;
}

/** `nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device status` */
export function parseDevices(stdout: string): NetDevice[] {
  return parseTerse(stdout, DEVICE_FIELDS).map((r) => ({
    device: r.DEVICE!,
    type: r.TYPE!,
    state: r.STATE!,
    connection: r.CONNECTION && r.CONNECTION !== '--' ? r.CONNECTION : null,
  }));
}

/** `connection add`'s answer "Connection 'NAME' (UUID) successfully added." -> UUID (recorded: wifi-add-wpa-psk). */
export function parseAddedUuid(stdout: string): string {
  const uuid = /\(([0-9a-f-]{36})\) successfully added/.exec(stdout)?.[1];
  if (!uuid) throw new Error(`nmcli did not say which connection it added: ${stdout.trim().slice(0, 200)}`);
  return uuid;
}

/** `nmcli -t -f IP4.ADDRESS device show IFACE`: `IP4.ADDRESS[1]:10.42.0.1/24` lines -> CIDRs (recorded: device-show-ip4). */
export function parseIp4Addresses(stdout: string): string[] {
  return parseTerse(stdout, ['FIELD', 'VALUE'])
    .filter((r) => /^IP4\.ADDRESS\[\d+\]$/.test(r.FIELD!) && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(r.VALUE!))
    .map((r) => r.VALUE!);
}

/** The first line of nmcli's stderr, for messages such as "Error: NetworkManager is not running." */
export function nmcliError(stderr: string): string {
  return (
    stderr
      .trim()
      .split('\n')[0]
      ?.replace(/^Error:\s*/, '') || 'nmcli failed'
  );
}
