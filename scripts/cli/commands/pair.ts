// station pair | wifi ... : what the link button does, and Wi-Fi onboarding, from a shell.
import type { Command } from '../command.ts';
import { json, need } from '../command.ts';
import { table, keyValues } from '../format.ts';
import type { PairingState } from '../../../agent/indicator/pairing-window.ts';
import type { WifiStatus } from '../../../agent/wifi/wifi-subsystem.ts';
import type { WifiNetwork } from '../../../hardware/wifi/nmcli-parse.ts';

export const pairCommand: Command = {
  words: ['pair'],
  summary: 'open a 30 s pairing window: a browser on the LAN may then sign in without the token',
  async run(args, client) {
    const state = await client.post<PairingState>('/pairing/open', {});
    if (args.json) return json(state);
    return `pairing window open until ${state.closesAt} (${state.remainingSeconds} s): on the status page, tap "Pair with the link button"`;
  },
};

export const wifiCommands: Command[] = [
  {
    words: ['wifi'],
    summary: 'Wi-Fi mode (client, hotspot, ...) and saved networks',
    async run(args, client) {
      const s = await client.get<WifiStatus>('/wifi');
      if (args.json) return json(s);
      return keyValues([
        ['mode', s.mode],
        ['device', s.device],
        ['connection', s.connection],
        ['hotspot', s.hotspotSsid],
        ['saved', s.saved.map((n) => n.name).join(', ') || null],
        ['reason', s.reason],
      ]);
    },
  },
  {
    words: ['wifi', 'ls'],
    summary: 'networks in range, strongest first (--rescan to scan again)',
    booleanFlags: ['rescan'],
    async run(args, client) {
      const { networks } = await client.get<{ networks: WifiNetwork[] }>(`/wifi/networks${args.flags.rescan ? '?rescan=yes' : ''}`);
      if (args.json) return json(networks);
      return table(
        ['', 'SSID', 'SIGNAL', 'SECURITY', 'CHANNEL'],
        networks.map((n) => [n.inUse ? '*' : '', n.ssid, `${n.signal}%`, n.security || 'open', String(n.channel ?? '')]),
      );
    },
  },
  {
    words: ['wifi', 'connect'],
    summary: 'join a Wi-Fi network (and leave the setup hotspot)',
    usage: 'wifi connect SSID [--password PASSWORD]',
    async run(args, client) {
      const ssid = need(args.positional[0], this.usage!);
      const body: Record<string, string> = { ssid };
      if (typeof args.flags.password === 'string') body.password = args.flags.password;
      const s = await client.post<WifiStatus>('/wifi/connect', body);
      return args.json ? json(s) : `joining ${ssid}: mode ${s.mode}`;
    },
  },
  {
    words: ['wifi', 'forget'],
    summary: 'forget a saved network',
    usage: 'wifi forget NAME',
    async run(args, client) {
      const name = need(args.positional[0], this.usage!);
      const s = await client.delete<WifiStatus>(`/wifi/networks/${encodeURIComponent(name)}`);
      return args.json ? json(s) : `forgot ${name}`;
    },
  },
];
