// Volumes exported over WebDAV and SMB through the real agent in a test namespace (a btrfs pool, a
// real LXC node with a volume, real rclone and samba), reached by clients in another namespace on
// the station's LAN: the right credentials read and write (a written file shows in the node's
// volume), a wrong password is refused, read-only refuses writes, an export listens only where it
// was asked to (mesh-only not on the LAN address, LAN-only not on the mesh address), removal stops
// its server and its credentials, bad input is refused with nothing made, no password in the logs.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { type AgentHandle, startAgent } from '../helpers/agent-process.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { createNetns, link, type Netns } from '../helpers/netns.ts';
import { pastEvents, stationCli } from '../helpers/agent-client.ts';
import { nodeAgentEnv, nodeStateDir } from '../helpers/node-agent.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';

interface ExportView {
  id: string;
  user: string;
  port: number;
  serving: boolean;
  urls: string[];
  reason: string | null;
  password?: string;
}

const STATION = '198.18.94.1';
let station: Netns;
let client: Netns;
let stateDir: string;
let agent: AgentHandle;
const node = `${RUN_PREFIX}dx`;
const passwords: string[] = [];
let env: Record<string, string>;
/** the logs of agents this test stopped */
let earlierLogs = '';
const startStation = () => startAgent({ netns: station.name, stateDir, storage: 'btrfs', poolMb: 256, env });

const call = (path: string, method = 'GET', json?: unknown, auth = true) =>
  agent.api(`/api/v1${path}`, { method, auth, ...(json !== undefined ? { json } : {}) });
const list = async (): Promise<ExportView[]> => ((await (await call('/disk/exports', 'GET', undefined, false)).json()) as { exports: ExportView[] }).exports;
const make = async (body: Record<string, unknown>): Promise<ExportView> => {
  const res = await call('/disk/exports', 'POST', body);
  assert.is(res.status, 201, await res.clone().text());
  const made = (await res.json()) as ExportView;
  passwords.push(made.password!);
  await waitFor(`export ${made.id} serving`, async () => (await list()).find((e) => e.id === made.id && e.serving), 60_000);
  return made;
};
const volumeFile = (name: string) => join(stateDir, 'storage/pool/volumes', node, 'data', name);

/** curl from a namespace: the HTTP status ('000' when nothing listens). */
async function curl(ns: Netns, args: string[]): Promise<string> {
  const r = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', ...args], { netns: ns.name, allowFailure: true });
  return r.stdout.trim();
}
async function curlBody(ns: Netns, args: string[]): Promise<string> {
  return (await exec(['curl', '-sf', '--max-time', '10', ...args], { netns: ns.name })).stdout;
}
/** smbclient from the client namespace: exit code and output. */
async function smb(share: string, user: string, password: string, command: string): Promise<{ code: number; out: string }> {
  const r = await exec(['smbclient', `//${STATION}/${share}`, '-U', `${user}%${password}`, '-m', 'SMB3', '-c', command], {
    netns: client.name,
    allowFailure: true,
    secrets: [password],
    timeoutMs: 30_000,
  });
  return { code: r.exitCode, out: r.stdout + r.stderr };
}

const t = suite('disk exports');

t.before(async () => {
  station = await createNetns('dxs');
  client = await createNetns('dxc');
  await link(station, `${STATION}/24`, client, '198.18.94.2/24', 'dxl');
  // the LAN is the interface carrying the default route (as on a station)
  await station.run(['ip', 'route', 'add', 'default', 'via', '198.18.94.2']);
  let lxcPath: string;
  ({ stateDir, lxcPath } = await nodeStateDir(station, 'disk-exports'));
  env = { ...nodeAgentEnv(lxcPath, '198.18.95.0/24'), STATION_DISABLE: 'wifi,discovery,indicator', STATION_NAME: 'dx1', STATION_DISK_OFFER_GB: '0' };
  agent = await startStation();
  const res = await call('/nodes', 'POST', {
    name: node,
    volumes: [
      { name: 'data', path: '/data' },
      { name: 'media', path: '/media' },
    ],
    modules: [{ name: 'keep', run: 'echo from-the-node > /data/note; exec sleep 100000' }],
  });
  assert.is(res.status, 201, await res.clone().text());
  await waitFor('the node wrote its note', async () => (await readFile(volumeFile('note'), 'utf8').catch(() => '')) === 'from-the-node\n', 60_000);
});
t.after(async () => {
  await cleanupAll();
});

t('nothing is exported by default; bad input is refused with nothing made', async () => {
  assert.equal(await list(), []);
  const cases: [Record<string, unknown>, number][] = [
    [{ node: 'nosuch', volume: 'data', protocol: 'webdav' }, 404],
    [{ node, volume: 'nosuch', protocol: 'webdav' }, 404],
    [{ node, volume: 'data', protocol: 'ftp' }, 400],
    [{ node, volume: 'data', protocol: 'webdav', on: 'internet' }, 400],
    [{ node, volume: 'data', protocol: 'smb', readOnly: 'yes' }, 400],
    // no mesh yet: nothing to listen on
    [{ node, volume: 'data', protocol: 'webdav', on: 'mesh' }, 409],
  ];
  for (const [body, status] of cases) {
    const res = await call('/disk/exports', 'POST', body);
    assert.is(res.status, status, `${JSON.stringify(body)}: ${await res.clone().text()}`);
  }
  const anonymous = await call('/disk/exports', 'POST', { node, volume: 'data', protocol: 'webdav' }, false);
  assert.is(anonymous.status, 401, 'making an export needs the token');
  assert.equal(await list(), [], 'nothing made');
  assert.is((await call('/disk/exports/0badc0de', 'DELETE')).status, 404);
});

t('WebDAV read-write: the right user reads the node file and writes one that shows in the volume; a wrong password is 401', async () => {
  const dav = await make({ node, volume: 'data', protocol: 'webdav', on: 'lan' });
  const url = `http://${STATION}:${dav.port}`;
  assert.equal(dav.urls, [`${url}/`]);
  assert.is(await curlBody(client, ['-u', `${dav.user}:${dav.password}`, `${url}/note`]), 'from-the-node\n');
  const upload = join(stateDir, 'upload.txt');
  await writeFile(upload, 'written over webdav\n');
  assert.is(await curl(client, ['-u', `${dav.user}:${dav.password}`, '-T', upload, `${url}/from-dav.txt`]), '201');
  assert.is(await readFile(volumeFile('from-dav.txt'), 'utf8'), 'written over webdav\n', 'in the node volume');
  const inNode = await call(`/nodes/${node}/exec`, 'POST', { command: ['cat', '/data/from-dav.txt'] });
  assert.is(((await inNode.json()) as { stdout: string }).stdout, 'written over webdav\n', 'the node sees it');
  assert.is(await curl(client, ['-u', `${dav.user}:wrong-password`, `${url}/note`]), '401');
  assert.is(await curl(client, [`${url}/note`]), '401', 'no credentials');
  // removed: the server stops, the credentials reach nothing
  const gone = await call(`/disk/exports/${dav.id}`, 'DELETE');
  assert.is(gone.status, 200, await gone.clone().text());
  assert.is(await curl(client, ['-u', `${dav.user}:${dav.password}`, `${url}/note`]), '000', 'nothing listens');
  assert.equal(await list(), []);
});

t('WebDAV read-only refuses writes and still reads', async () => {
  const dav = await make({ node, volume: 'data', protocol: 'webdav', readOnly: true });
  const url = `http://${STATION}:${dav.port}`;
  const upload = join(stateDir, 'upload2.txt');
  await writeFile(upload, 'must not land\n');
  const status = await curl(client, ['-u', `${dav.user}:${dav.password}`, '-T', upload, `${url}/refused.txt`]);
  // rclone's WebDAV answers a PUT it may not open with 404 (golang.org/x/net/webdav: any OpenFile error is 404)
  assert.ok(!status.startsWith('2'), `write refused (got ${status})`);
  assert.is(await readFile(volumeFile('refused.txt'), 'utf8').catch(() => null), null, 'nothing written');
  assert.is(await curl(client, ['-u', `${dav.user}:${dav.password}`, '-X', 'DELETE', `${url}/note`]).then((s) => s !== '204'), true, 'no delete');
  assert.is(await readFile(volumeFile('note'), 'utf8'), 'from-the-node\n');
  assert.is(await curlBody(client, ['-u', `${dav.user}:${dav.password}`, `${url}/note`]), 'from-the-node\n');
  // supervised: a server that dies is started again (after its back-off), read-only still
  const pid = async () => (await exec(['pgrep', '-f', `${stateDir}/disk/exports/${dav.id}.htpasswd`], { allowFailure: true })).stdout.trim();
  const first = await pid();
  assert.match(first, /^\d+$/);
  process.kill(Number(first), 'SIGKILL');
  await waitFor(
    'the server started again',
    async () => {
      const now = await pid();
      return now && now !== first && (await list()).find((e) => e.id === dav.id && e.serving);
    },
    30_000,
  );
  assert.is(await curlBody(client, ['-u', `${dav.user}:${dav.password}`, `${url}/note`]), 'from-the-node\n');
  assert.is.not(await curl(client, ['-u', `${dav.user}:${dav.password}`, '-T', upload, `${url}/refused.txt`]), '201');
  assert.is((await call(`/disk/exports/${dav.id}`, 'DELETE')).status, 200);
});

t('SMB read-write and read-only through smbclient; a wrong password is NT_STATUS_LOGON_FAILURE; removed, the user is refused', async () => {
  const rw = await make({ node, volume: 'data', protocol: 'smb', on: 'lan' });
  const share = `${node}-data`;
  assert.equal(rw.urls, [`\\\\${STATION}\\${share}`]);
  const upload = join(stateDir, 'upload3.txt');
  await writeFile(upload, 'written over smb\n');
  const put = await smb(share, rw.user, rw.password!, `put ${upload} from-smb.txt; get note ${join(stateDir, 'got-note')}`);
  assert.is(put.code, 0, put.out);
  assert.is(await readFile(volumeFile('from-smb.txt'), 'utf8'), 'written over smb\n', 'in the node volume');
  assert.is(await readFile(join(stateDir, 'got-note'), 'utf8'), 'from-the-node\n');
  const wrong = await smb(share, rw.user, 'wrong-password', 'ls');
  assert.is.not(wrong.code, 0);
  assert.match(wrong.out, 'NT_STATUS_LOGON_FAILURE');
  // another volume's export on the same smbd: its user does not open this share, nor this user that one
  const media = await make({ node, volume: 'media', protocol: 'smb' });
  assert.is((await smb(`${node}-media`, media.user, media.password!, 'ls')).code, 0);
  assert.is.not((await smb(share, media.user, media.password!, 'ls')).code, 0, "media's user on data");
  assert.is.not((await smb(`${node}-media`, rw.user, rw.password!, 'ls')).code, 0, "data's user on media");
  // removed while smbd keeps serving the other export: the user is gone from the passdb, the share from the config
  assert.is((await call(`/disk/exports/${rw.id}`, 'DELETE')).status, 200);
  await waitFor('smbd serving again', async () => (await list()).find((e) => e.id === media.id && e.serving), 60_000);
  const after = await smb(share, rw.user, rw.password!, 'ls');
  assert.is.not(after.code, 0, after.out);
  assert.match(after.out, 'NT_STATUS_LOGON_FAILURE');
  assert.is((await smb(`${node}-media`, media.user, media.password!, 'ls')).code, 0, 'the other export still works');
  assert.is((await call(`/disk/exports/${media.id}`, 'DELETE')).status, 200);

  const ro = await make({ node, volume: 'data', protocol: 'smb', readOnly: true });
  const refused = await smb(share, ro.user, ro.password!, `put ${upload} refused.txt`);
  assert.match(refused.out, 'NT_STATUS_ACCESS_DENIED');
  assert.is(await readFile(volumeFile('refused.txt'), 'utf8').catch(() => null), null, 'nothing written');
  const read = await smb(share, ro.user, ro.password!, `get note ${join(stateDir, 'got-note-ro')}`);
  assert.is(read.code, 0, read.out);
  // another export's user does not open this share
  assert.is.not((await smb(share, rw.user, rw.password!, 'ls')).code, 0);
  assert.is((await call(`/disk/exports/${ro.id}`, 'DELETE')).status, 200);
});

t('a symlink a node leaves in its volume leads no client out of it (WebDAV and SMB)', async () => {
  // what a node's root can write into its volume: a link to the station's own root directory
  await symlink('/', volumeFile('escape'));
  const dav = await make({ node, volume: 'data', protocol: 'webdav' });
  const cred = ['-u', `${dav.user}:${dav.password}`];
  assert.is(await curl(client, [...cred, `http://${STATION}:${dav.port}/escape/etc/hostname`]), '404', 'WebDAV does not follow it');
  const share = await make({ node, volume: 'data', protocol: 'smb' });
  const got = join(stateDir, 'escaped-passwd');
  const r = await smb(`${node}-data`, share.user, share.password!, `get escape/etc/passwd ${got}`);
  assert.match(r.out, /NT_STATUS_(ACCESS_DENIED|OBJECT_NAME_NOT_FOUND|OBJECT_PATH_NOT_FOUND)/, r.out);
  assert.is(await readFile(got, 'utf8').catch(() => null), null, 'nothing of the station read over SMB');
  await rm(volumeFile('escape'));
  for (const e of [dav, share]) assert.is((await call(`/disk/exports/${e.id}`, 'DELETE')).status, 200);
});

t('an export listens only where asked: mesh-only not on the LAN address, LAN-only not on the mesh address', async () => {
  const mesh = await call('/mesh', 'POST', { owner: 'alice' });
  assert.is(mesh.status, 200, await mesh.clone().text());
  const address = await waitFor(
    'the mesh up',
    async () => {
      const m = (await (await call('/mesh')).json()) as { state: string; address: string | null };
      return m.state === 'up' && m.address;
    },
    60_000,
  );
  const onMesh = await make({ node, volume: 'data', protocol: 'webdav', on: 'mesh' });
  const onLan = await make({ node, volume: 'data', protocol: 'smb', on: 'lan' });
  assert.equal(onMesh.urls, [`http://${address}:${onMesh.port}/`]);
  const cred = ['-u', `${onMesh.user}:${onMesh.password}`];
  // from the station itself (the only place here that reaches its mesh address)
  assert.is(await curl(station, [...cred, `http://${address}:${onMesh.port}/note`]), '200', 'served on the mesh address');
  assert.is(await curl(client, [...cred, `http://${STATION}:${onMesh.port}/note`]), '000', 'not on the LAN address');
  assert.is(await curl(station, [...cred, `http://${STATION}:${onMesh.port}/note`]), '000', 'not on the LAN address, even from the station');
  const smbOnMesh = await exec(['smbclient', `//${address}/${node}-data`, '-U', `${onLan.user}%${onLan.password}`, '-c', 'ls'], {
    netns: station.name,
    allowFailure: true,
    secrets: [onLan.password!],
  });
  assert.is.not(smbOnMesh.exitCode, 0, 'the LAN-only share is not on the mesh address');
  // one smbd listens on both addresses now; a mesh-only share still admits no LAN client (hosts allow)
  const meshShare = await make({ node, volume: 'media', protocol: 'smb', on: 'mesh' });
  const fromStation = await exec(['smbclient', `//${address}/${node}-media`, '-U', `${meshShare.user}%${meshShare.password}`, '-c', 'ls'], {
    netns: station.name,
    allowFailure: true,
    secrets: [meshShare.password!],
  });
  assert.is(fromStation.exitCode, 0, `the mesh share on the mesh address: ${fromStation.stdout}${fromStation.stderr}`);
  const fromLan = await smb(`${node}-media`, meshShare.user, meshShare.password!, 'ls');
  assert.is.not(fromLan.code, 0, `a LAN client is refused the mesh-only share: ${fromLan.out}`);
  // both: on both
  assert.is((await call(`/disk/exports/${onMesh.id}`, 'DELETE')).status, 200);
  const both = await make({ node, volume: 'data', protocol: 'webdav', on: 'both' });
  assert.equal(both.urls.sort(), [`http://${STATION}:${both.port}/`, `http://${address}:${both.port}/`].sort());
  assert.is(await curl(client, ['-u', `${both.user}:${both.password}`, `http://${STATION}:${both.port}/note`]), '200');
});

t('the CLI exports, lists and unexports; an agent killed and started again serves the same exports with the same passwords', async () => {
  const cli = stationCli(station.name, () => agent.baseUrl, stateDir);
  const usage = await cli('disk', 'export', `${node}/data`);
  assert.is(usage.exitCode, 2, 'neither --webdav nor --smb');
  assert.match(usage.stderr + usage.stdout, 'usage: station disk export');
  const made = await cli('disk', 'export', `${node}/media`, '--webdav', '--on', 'lan', '--read-only');
  assert.is(made.exitCode, 0, made.stderr);
  const id = /\(export ([0-9a-f]{8})\)/.exec(made.stdout)?.[1];
  const password = /^password: (\S+)$/m.exec(made.stdout)?.[1];
  const user = /^user: +(\S+)$/m.exec(made.stdout)?.[1];
  assert.ok(id && password && user, made.stdout);
  passwords.push(password);
  assert.match(made.stdout, `exported ${node}/media over webdav on lan, read-only`);
  const port = (await list()).find((e) => e.id === id)!.port;
  await waitFor('the CLI export serving', async () => (await list()).find((e) => e.id === id && e.serving), 60_000);
  const ls = await cli('disk', 'exports');
  assert.is(ls.exitCode, 0, ls.stderr);
  assert.match(ls.stdout, new RegExp(`^${id} +${node}/media +webdav +lan +read-only +${user} +yes +http://${STATION}:${port}/`, 'm'));
  assert.not.match(ls.stdout, password);

  // SIGKILL: its servers die with it (setpriv --pdeathsig); the next agent serves the same exports
  const servers = async () => (await exec(['pgrep', '-f', `${stateDir}/disk/`], { allowFailure: true })).stdout.trim().split('\n').filter(Boolean);
  assert.ok((await servers()).length > 0, 'servers run');
  earlierLogs += agent.logs();
  await agent.stop('SIGKILL');
  await waitFor('no server of the killed agent left', async () => (await servers()).length === 0, 30_000);
  agent = await startStation();
  await waitFor('served again', async () => (await list()).find((e) => e.id === id && e.serving), 60_000);
  assert.is(await curl(client, ['-u', `${user}:${password}`, `http://${STATION}:${port}/`]), '200', 'the same password works');
  // SIGTERM: the agent stops its servers itself
  earlierLogs += agent.logs();
  assert.is(await agent.stop('SIGTERM'), 0);
  assert.equal(await servers(), [], 'no server left by an agent that stopped');
  agent = await startStation();
  await waitFor('served after a stop', async () => (await list()).find((e) => e.id === id && e.serving), 60_000);
  const gone = await cli('disk', 'unexport', id);
  assert.is(gone.exitCode, 0, gone.stderr);
  assert.match(gone.stdout, `removed export ${id} (webdav ${node}/media)`);
  assert.is(await curl(client, ['-u', `${user}:${password}`, `http://${STATION}:${port}/`]), '000');
  assert.is((await cli('disk', 'unexport', id)).exitCode, 1, 'unknown export');
});

t('deleting the node removes its exports; no password in the logs, the state files or the listing', async () => {
  const before = await list();
  assert.ok(before.length > 0);
  const del = await call(`/nodes/${node}`, 'DELETE');
  assert.ok(del.status < 300, await del.clone().text());
  await waitFor('exports gone with the node', async () => (await list()).length === 0, 60_000);
  const listing = JSON.stringify(before);
  const state = await readFile(join(stateDir, 'disk/exports.json'), 'utf8');
  assert.is((await stat(join(stateDir, 'disk/exports.json'))).mode & 0o777, 0o600);
  for (const p of passwords) {
    assert.not.ok((earlierLogs + agent.logs()).includes(p), 'no password in the logs');
    assert.not.ok(listing.includes(p), 'none in GET /disk/exports');
    assert.not.ok(state.includes(p), 'none in exports.json');
  }
  assert.match(earlierLogs, 'volume exported', 'the logs were read');
  assert.match(agent.logs(), 'export removed');
  // the events: removed with their node, and never a password (the bus keeps a short history: since event 1).
  // The listing is empty before the last event is sent (the keeper forgets them all, then removes each): wait for them.
  const { sse, removed } = await waitFor(
    'an event for each export removed',
    async () => {
      const sse = await pastEvents<{ id?: string; reason?: string }>(station.name, agent.baseUrl);
      const removed = sse.events.filter((e) => e.type === 'disk.export.removed' && e.data.reason === 'its node was deleted');
      return removed.length >= before.length && { sse, removed };
    },
    60_000,
  );
  assert.equal(removed.map((e) => e.data.id).sort(), before.map((e) => e.id).sort(), sse.raw.slice(-3000));
  for (const p of passwords) assert.not.ok(sse.raw.includes(p), 'no password in an event');
});

t.run();
