// The one smbd's configuration and its private passwd file, pure. Everything samba keeps lives under
// <stateDir>/disk/samba (never /etc/samba, never the machine's own passdb): it is the agent's smbd.
//
// Users. Samba checks a password against its passdb (tdbsam: an NT hash, never the password), and
// wants a unix account of the same name for the session. Each export's user gets one in a passwd
// file of smbd's own, bind-mounted over /etc/passwd in smbd's private mount namespace (and pdbedit's),
// so no account is ever added to the machine. Its uid is far above any real account and owns nothing:
// every share is `force user = root`, because node volumes hold the files of privileged containers
// (no uid mapping: root in a node is root here), written by the node's processes as whatever uid
// they run as. Files made through SMB are root's (0644/0755), as those made through WebDAV (rclone
// runs as root) and by a node's root. A read-only export is read-only in samba itself.
import { SMB_PORT } from './export-record.ts';

export interface SmbShare {
  /** the share's name: NODE-VOLUME */
  name: string;
  path: string;
  user: string;
  readOnly: boolean;
  /** client networks admitted (CIDRs): the LAN's subnets and/or the mesh range */
  hostsAllow: string[];
}

export interface SmbConfInput {
  /** <stateDir>/disk/samba */
  dir: string;
  stationName: string;
  /** the addresses smbd listens on (every SMB export's, together) */
  interfaces: string[];
  /**
   * Listen on every address instead: samba 4.17 never binds to a device without broadcast (measured
   * on Nebula's tun: "not adding non-broadcast interface nebula1"), so an export on the mesh needs it.
   * Who gets in is then the `hosts allow` of smbd and of each share (the client's network).
   */
  bindAll?: boolean;
  shares: SmbShare[];
  port?: number;
}

/** samba reads one value per line; a newline or a leading/trailing space would change its meaning. */
const value = (v: string): string => {
  if (/[\r\n]/.test(v) || v.trim() !== v) throw new Error(`not a samba value: ${JSON.stringify(v)}`);
  return v;
};

/** samba's `hosts allow` list; an empty one would admit everyone, so it names an address nobody has. */
const allowed = (cidrs: string[]): string => (cidrs.length ? [...new Set(cidrs)].map(value).join(' ') : '127.0.0.2/32');

/** A NetBIOS name (15 characters, letters, digits, dash); netbios itself is off, but samba wants one. */
export const netbiosName = (station: string): string =>
  (
    station
      .toUpperCase()
      .replace(/[^A-Z0-9-]/g, '')
      .slice(0, 15) || 'STATION'
  ).replace(/-+$/, '') || 'STATION';

export function renderSmbConf(c: SmbConfInput): string {
  const d = value(c.dir);
  const lines = [
    '# Written by the Station agent (agent/disk/exports): its own smbd, not the system one. Changes are overwritten.',
    '[global]',
    '  server role = standalone server',
    '  workgroup = WORKGROUP',
    `  netbios name = ${netbiosName(c.stationName)}`,
    '  server string = Station',
    `  passdb backend = tdbsam:${d}/private/passdb.tdb`,
    `  private dir = ${d}/private`,
    `  lock directory = ${d}/lock`,
    `  pid directory = ${d}/run`,
    `  state directory = ${d}/state`,
    `  cache directory = ${d}/cache`,
    `  ncalrpc dir = ${d}/ncalrpc`,
    `  log file = ${d}/smbd.log`,
    '  max log size = 1000',
    `  interfaces = ${c.interfaces.map(value).join(' ')}`,
    `  bind interfaces only = ${c.bindAll ? 'no' : 'yes'}`,
    // no connection from a network no share admits (each share narrows it to its own)
    `  hosts allow = ${allowed(c.shares.flatMap((s) => s.hostsAllow))}`,
    `  smb ports = ${c.port ?? SMB_PORT}`,
    '  disable netbios = yes',
    '  server min protocol = SMB2_10',
    '  smb encrypt = desired',
    '  map to guest = never',
    '  restrict anonymous = 2',
    '  usershare max shares = 0',
    '  load printers = no',
    '  printing = bsd',
    '  printcap name = /dev/null',
    '  disable spoolss = yes',
    '  unix extensions = no',
  ];
  for (const s of [...c.shares].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(
      '',
      `[${value(s.name)}]`,
      `  path = ${value(s.path)}`,
      `  valid users = ${value(s.user)}`,
      '  force user = root',
      '  force group = root',
      `  read only = ${s.readOnly ? 'yes' : 'no'}`,
      // a client network not asked for gets no share, though smbd listens on every export's addresses
      `  hosts allow = ${allowed(s.hostsAllow)}`,
      '  hosts deny = 0.0.0.0/0',
      '  browseable = no',
      // a symlink a node leaves in its volume must not lead a client out of it
      '  wide links = no',
      '  create mask = 0644',
      '  directory mask = 0755',
      '  map archive = no',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** smbd's passwd file: the machine's accounts (root for `force user`, nobody for the guest account) plus one per SMB export. */
export function renderPasswd(machinePasswd: string, users: { user: string; uid: number }[]): string {
  const names = new Set(users.map((u) => u.user));
  const kept = machinePasswd.split('\n').filter((l) => l.trim() !== '' && !names.has(l.slice(0, l.indexOf(':'))));
  for (const u of users) kept.push(`${value(u.user)}:x:${u.uid}:65534:station export:/nonexistent:/usr/sbin/nologin`);
  return `${kept.join('\n')}\n`;
}
