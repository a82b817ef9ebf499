// The pure parts of disk exports: smbd's config (checked by samba's own testparm), its private passwd
// file, the WebDAV argv, where an export listens (from captured `ip -j` output), the passdb listing
// (captured `pdbedit -L`), and the checks of a request.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, hasProgram } from '../../../../../agent/exec.ts';
import { clientNetworks, listenAddresses, MESH_RANGE, parseLanAddresses } from '../../../../../agent/disk/exports/addresses.ts';
import {
  checkRequest,
  type ExportRecord,
  freeSmbUid,
  freeWebdavPort,
  SMB_UID_BASE,
  WEBDAV_PORT_BASE,
} from '../../../../../agent/disk/exports/export-record.ts';
import { parsePdbeditList, withPasswd } from '../../../../../agent/disk/exports/samba-server.ts';
import { netbiosName, renderPasswd, renderSmbConf } from '../../../../../agent/disk/exports/smb-conf.ts';
import { webdavArgv } from '../../../../../agent/disk/exports/webdav.ts';

/** real output captured in a namespace with a LAN (two addresses, a default route) and a Nebula-like tun device */
const captured = (name: string): string => readFileSync(new URL(`../../../../fixtures/disk-exports/${name}`, import.meta.url), 'utf8');

test('LAN addresses: those of the default-route interface, never the mesh device (captured ip -j output)', () => {
  const a = parseLanAddresses(captured('ip-route.json'), captured('ip-addr.json'), ['stbr0', 'nebula1']);
  assert.equal(a, { lan: ['198.18.77.1', '198.18.78.1'], lanSubnets: ['198.18.77.0/24', '198.18.78.0/24'] });
  assert.equal(parseLanAddresses('[]', captured('ip-addr.json'), []), { lan: [], lanSubnets: [] }, 'no default route: no LAN');
});

test('where an export listens, and why it cannot', () => {
  const up = { lan: ['198.18.77.1'], lanSubnets: ['198.18.77.0/24'], mesh: '100.64.0.5' };
  assert.equal(listenAddresses('lan', up), { addresses: ['198.18.77.1'], missing: null });
  assert.equal(listenAddresses('mesh', up), { addresses: ['100.64.0.5'], missing: null });
  assert.equal(listenAddresses('both', up), { addresses: ['198.18.77.1', '100.64.0.5'], missing: null });
  const noMesh = { ...up, mesh: null };
  assert.equal(listenAddresses('mesh', noMesh).addresses, []);
  assert.match(listenAddresses('mesh', noMesh).missing!, 'not up in a mesh');
  assert.match(listenAddresses('both', noMesh).missing!, 'not up in a mesh', 'both needs both');
  assert.match(listenAddresses('lan', { lan: [], lanSubnets: [], mesh: null }).missing!, 'no LAN address');
  assert.equal(clientNetworks('lan', up), ['198.18.77.0/24']);
  assert.equal(clientNetworks('mesh', up), [MESH_RANGE]);
  assert.equal(clientNetworks('both', up), ['198.18.77.0/24', MESH_RANGE]);
});

test('a request: protocol and networks checked, read-write on the LAN by default', () => {
  assert.equal(checkRequest({ node: 'a', volume: 'b', protocol: 'webdav' }), { protocol: 'webdav', on: 'lan', readOnly: false });
  assert.equal(checkRequest({ node: 'a', volume: 'b', protocol: 'smb', on: 'both', readOnly: true }), { protocol: 'smb', on: 'both', readOnly: true });
  assert.throws(() => checkRequest({ node: 'a', volume: 'b', protocol: 'ftp' }), /DISK_EXPORT_PROTOCOL_INVALID|protocol must be/);
  assert.throws(() => checkRequest({ node: 'a', volume: 'b', protocol: 'smb', on: 'internet' }), /on must be/);
});

test('ports and uids: the lowest free one', () => {
  const r = (protocol: 'webdav' | 'smb', port: number, uid?: number): ExportRecord => ({
    id: '00000000',
    node: 'n',
    volume: 'v',
    protocol,
    on: 'lan',
    readOnly: false,
    user: 'u',
    port,
    ...(uid !== undefined ? { uid } : {}),
    createdAt: '',
  });
  assert.is(freeWebdavPort([]), WEBDAV_PORT_BASE);
  assert.is(freeWebdavPort([r('webdav', WEBDAV_PORT_BASE), r('webdav', WEBDAV_PORT_BASE + 2), r('smb', 445)]), WEBDAV_PORT_BASE + 1);
  assert.is(freeSmbUid([r('smb', 445, SMB_UID_BASE)]), SMB_UID_BASE + 1);
});

test('the WebDAV argv: its own htpasswd, no rclone config, read-only when asked', () => {
  const argv = webdavArgv({ addr: '198.18.77.1:8720', htpasswd: '/s/x.htpasswd', dir: '/s/vol', readOnly: true });
  assert.equal(argv.slice(0, 4), ['rclone', 'serve', 'webdav', '--read-only']);
  assert.ok(argv.includes('--htpasswd') && argv.includes('/s/x.htpasswd'));
  assert.equal(argv.slice(-3), ['--config', '/dev/null', '/s/vol']);
  assert.not.ok(webdavArgv({ addr: 'a:1', htpasswd: 'h', dir: 'd', readOnly: false }).includes('--read-only'));
});

test('passdb users from captured pdbedit -L output', () => {
  assert.equal(parsePdbeditList(captured('pdbedit-L.txt')), ['exp1']);
  assert.equal(parsePdbeditList('WARNING: no network interfaces found\n'), []);
});

test("smbd's passwd file: the machine's accounts plus the export users, never twice", () => {
  const machine = 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
  const text = renderPasswd(machine, [{ user: 'smb-0a1b2c3d', uid: SMB_UID_BASE }]);
  assert.is(text.split('\n').filter((l) => l.startsWith('smb-0a1b2c3d:')).length, 1);
  assert.match(text, /^root:x:0:0:/);
  assert.is(renderPasswd(text, [{ user: 'smb-0a1b2c3d', uid: SMB_UID_BASE }]), text, 'rendered again: the same');
  assert.throws(() => renderPasswd(machine, [{ user: 'a\nroot2', uid: 1 }]));
  assert.equal(withPasswd('/p', ['pdbedit', '-L']).slice(0, 2), ['unshare', '-m']);
});

test('a NetBIOS name samba takes', () => {
  assert.is(netbiosName('home-station-number-one'), 'HOME-STATION-NU');
  assert.is(netbiosName('s1'), 'S1');
  assert.is(netbiosName('---'), 'STATION');
});

const conf = (dir: string) =>
  renderSmbConf({
    dir,
    stationName: 's1',
    interfaces: ['198.18.77.1', '100.64.0.5'],
    shares: [
      { name: 'web-data', path: '/var/lib/station/storage/volumes/web/data', user: 'smb-0a1b2c3d', readOnly: false, hostsAllow: ['198.18.77.0/24'] },
      { name: 'web-media', path: '/var/lib/station/storage/volumes/web/media', user: 'smb-11111111', readOnly: true, hostsAllow: [MESH_RANGE] },
    ],
  });

test('the smbd config: its own directories, only the asked addresses, one share per export with its user, networks and access', () => {
  const text = conf('/var/lib/station/disk/samba');
  for (const line of [
    'passdb backend = tdbsam:/var/lib/station/disk/samba/private/passdb.tdb',
    'lock directory = /var/lib/station/disk/samba/lock',
    'interfaces = 198.18.77.1 100.64.0.5',
    'bind interfaces only = yes',
    'smb ports = 445',
  ])
    assert.ok(text.includes(`  ${line}\n`), line);
  assert.not.match(text, '/etc/samba', 'nothing of the system samba');
  assert.ok(text.includes(`  hosts allow = 198.18.77.0/24 ${MESH_RANGE}\n`), 'smbd admits only the networks of its shares');
  const all = renderSmbConf({ dir: '/d', stationName: 's', interfaces: ['198.18.77.1'], bindAll: true, shares: [] });
  assert.match(all, '  bind interfaces only = no\n', 'an export on the mesh: every address (samba skips tun devices)');
  assert.match(all, '  hosts allow = 127.0.0.2/32\n', 'no share: nobody is admitted (an empty list would admit everyone)');
  const media = text.slice(text.indexOf('[web-media]'));
  assert.match(media, 'valid users = smb-11111111');
  assert.match(media, 'read only = yes');
  assert.match(media, `hosts allow = ${MESH_RANGE}`);
  assert.match(media, 'force user = root');
  assert.match(media, 'wide links = no');
  assert.throws(() =>
    renderSmbConf({ dir: '/x', stationName: 's', interfaces: [], shares: [{ name: 'a]\n[global', path: '/', user: 'u', readOnly: true, hostsAllow: [] }] }),
  );
});

test('samba itself (testparm) takes the config: no unknown parameter, every share as written', async () => {
  if (!(await hasProgram('testparm'))) {
    console.log('  skipped: testparm is not installed (Debian package samba-common-bin, pulled in by samba)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'smbconf-'));
  try {
    for (const sub of ['private', 'lock', 'run', 'state', 'cache', 'ncalrpc']) await mkdir(join(dir, sub));
    await writeFile(join(dir, 'smb.conf'), conf(dir));
    const r = await exec(['testparm', '-s', '--suppress-prompt', join(dir, 'smb.conf')], { allowFailure: true });
    assert.is(r.exitCode, 0, r.stderr);
    assert.not.match(r.stderr, /Unknown parameter|Ignoring unknown|not a valid/i, r.stderr);
    assert.match(r.stdout, /\[web-data\][^[]*valid users = smb-0a1b2c3d/);
    // testparm prints what differs from the default (read only = Yes)
    assert.not.match(r.stdout.slice(r.stdout.indexOf('[web-media]')), 'read only = No');
    assert.match(r.stdout, /\[web-data\][^[]*read only = No/);
    assert.match(r.stdout, /\[web-data\][^[]*hosts allow = 198\.18\.77\.0\/24/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
