// Test helper for the nmcli DOUBLE: puts test/doubles/nmcli-double first on PATH, writes the
// scenario (which recorded output answers which command) and reads back the calls made.
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const DIR = fileURLToPath(new URL('./nmcli-double/', import.meta.url));

/** [regex on the joined argv, fixture name or the answer itself] */
export type NmcliRule = [string, string | { stdout?: string; stderr?: string; exit?: number }];

export interface NmcliDouble {
  /** first matching rule answers */
  scenario(rules: NmcliRule[]): Promise<void>;
  calls(): Promise<string[][]>;
  /** what each `passwd-file` held when nmcli read it, its mode (octal), and the call's argv */
  passwdFiles(): Promise<{ args: string[]; content: string; mode: string }[]>;
}

export async function installNmcliDouble(): Promise<NmcliDouble> {
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-nmcli-`));
  onCleanup(`nmcli double ${dir}`, async () => (await import('node:fs/promises')).rm(dir, { recursive: true, force: true }));
  const scenarioFile = join(dir, 'scenario.json');
  const log = join(dir, 'calls.log');
  await writeFile(log, '');
  process.env.PATH = `${DIR}:${process.env.PATH}`;
  process.env.NMCLI_DOUBLE_SCENARIO = scenarioFile;
  process.env.NMCLI_DOUBLE_LOG = log;
  return {
    scenario: (rules) => writeFile(scenarioFile, JSON.stringify({ rules: rules.map(([match, reply]) => ({ match, reply })) })),
    calls: async () =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
    passwdFiles: async () =>
      (await readFile(`${log}.passwd-files`, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args: string[]; content: string; mode: string }),
  };
}

/**
 * NetworkManager's answers on a box whose wlan0 is joined to nothing, up to the setup hotspot being
 * made and given its address: the device list, the saved profiles, what the radio sees (by default the
 * home network is out of range), the hotspot profile replaced, and wlan0's IPv4 address once it is up.
 * Tests add how profiles are brought up and down, and joining.
 */
export function hotspotScenario({
  device = 'device-status-wifi-disconnected',
  wifiList = 'wifi-list-home-gone',
  ip4 = 'device-show-ip4-hotspot',
} = {}): NmcliRule[] {
  return [
    ['^-t -f DEVICE,TYPE,STATE,CONNECTION device status$', device],
    ['^-t -f NAME,UUID,TYPE,DEVICE,AUTOCONNECT,TIMESTAMP connection show$', 'connection-show'],
    ['^-t -f IN-USE,SSID,BSSID,MODE,CHAN,FREQ,SIGNAL,SECURITY device wifi list ifname wlan0 --rescan (yes|no)$', wifiList],
    ['^connection delete id station-setup-hotspot$', 'connection-delete'],
    ['^connection add type wifi ifname wlan0 con-name station-setup-hotspot ', 'hotspot-add-wpa2'],
    ['^-t -f IP4.ADDRESS device show wlan0$', ip4],
  ];
}
