// Directory volumes (the dir driver's, and earlier versions') move into btrfs subvolumes on a real
// loop-backed pool when the station starts with storage auto: owners, modes, times, xattrs, hard
// links, symlinks, FIFOs and sparse files come across byte for byte; a migration cut off at any
// point (a SIGKILL of the process while cp runs; a crash just after the source is retired; a crash
// just after the copy is in place) is finished or undone by the next start with nothing lost; and
// a real busybox node whose volume moved is stopped for it, rebuilt on the pool and sees its data.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { processCommandLines } from '../../agent/lib/processes.ts';
import { EventBus } from '../../agent/events.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import { isBtrfs, isBtrfsSubvolume } from '../../agent/storage/btrfs-fs.ts';
import { openStorage, type StorageSettings } from '../../agent/storage/select.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { testPool } from '../helpers/loop-pool.ts';
import { createNetns } from '../helpers/netns.ts';
import { RUN_PREFIX, runName } from '../helpers/run-prefix.ts';
import { waitFor } from '../helpers/wait.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';

const MiB = 1024 * 1024;
const ROOT = new URL('../../', import.meta.url).pathname;
let dir: string;
let count = 0;

const t = suite('directory volumes move into subvolumes');

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-migrate-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
});
t.after(async () => {
  await cleanupAll();
});

const settings = (state: string, sizeMb = 512): StorageSettings => ({
  stateDir: state,
  storageDriver: 'auto',
  storagePoolFile: join(state, 'storage', 'pool.img'),
  storagePoolSizeMb: sizeMb,
});

/** A state directory whose pool (if one gets made) is unmounted at cleanup. */
async function stateDir(): Promise<{ state: string; poolVolumes: string }> {
  const state = join(dir, `state${count++}`);
  await mkdir(state);
  const pool = testPool(join(state, 'storage'), 'pool', 512 * MiB);
  return { state, poolVolumes: join(pool.mountPoint, 'volumes') };
}

const sh = (script: string, ...args: string[]) => exec(['sh', '-c', script, 'sh', ...args], { timeoutMs: 120_000 });

/** Everything a copy must keep, per path: type, mode, owner, times, size, content hash, link target,
 * hard-link group, sparseness, xattrs. Read with Node's own calls (and python3 for xattrs), not with the copying tools. */
async function manifest(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  async function walk(rel: string): Promise<void> {
    const path = rel ? join(root, rel) : root;
    const st = await lstat(path);
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'link' : st.isFIFO() ? 'fifo' : 'other';
    let line = `${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} mtime=${Math.round(st.mtimeMs)}`;
    if (kind === 'file') {
      const first = st.nlink > 1 ? inodes.get(st.ino) : undefined;
      if (st.nlink > 1 && !first) inodes.set(st.ino, rel);
      const hash = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      line += ` size=${st.size} sha256=${hash} nlink=${st.nlink}${first ? ` same-as=${first}` : ''} sparse=${st.blocks * 512 < st.size}`;
    }
    if (kind === 'link') line += ` -> ${await readlink(path)}`;
    out[rel || '.'] = line;
    if (kind === 'dir') for (const name of (await readdir(path)).sort()) await walk(rel ? join(rel, name) : name);
  }
  await walk('');
  const xattrs = await exec([
    'python3',
    '-c',
    [
      'import os,sys,json',
      'r=sys.argv[1]',
      'out={}',
      'for d,ds,fs in os.walk(r):',
      ' for n in ["."]+ds+fs:',
      '  p=os.path.normpath(os.path.join(d,n))',
      '  if os.path.islink(p): continue',
      '  x={k:os.getxattr(p,k).hex() for k in os.listxattr(p)}',
      '  if x: out[os.path.relpath(p,r)]=x',
      'print(json.dumps(out,sort_keys=True))',
    ].join('\n'),
    root,
  ]);
  out['(xattrs)'] = xattrs.stdout.trim();
  return out;
}

/** The pid of a cp copying into `target`, or null (read synchronously: it must be caught while it runs). */
async function cpCopyingInto(target: string): Promise<number | null> {
  for (const { pid, cmdline } of processCommandLines()) if (cmdline.startsWith('cp\0') && cmdline.includes(target)) return pid;
  return null;
}

/** A directory volume with everything a careless copy loses, at stateDir/volumes/<node>/<volume>. */
async function richVolume(state: string, node: string, bigMb = 0): Promise<string> {
  const path = join(state, 'volumes', node, 'data');
  await mkdir(path, { recursive: true });
  await sh(
    `cd "$1" && echo hello > a && chown 1234:5678 a && chmod 4751 a && mkdir -p sub/deep empty && ln a sub/hard &&
     echo secret > 'name with space' && chmod 600 'name with space' && ln -s a link && ln -s /nowhere dangling && mkfifo fifo &&
     truncate -s 50M sparse && printf x | dd of=sparse bs=1 seek=1000000 conv=notrunc status=none &&
     touch -d '2001-02-03 04:05:06' sub/deep sub && chown 99:99 . && chmod 0710 . &&
     python3 -c 'import os; os.setxattr("sub/hard", "user.k", b"v1"); os.setxattr(".", "user.root", b"r"); os.setxattr("sub", "user.dir", b"d")' &&
     if [ "$2" -gt 0 ]; then head -c "$2"M /dev/urandom > big; fi`,
    path,
    String(bigMb),
  );
  return path;
}

t('every kind of file comes across as it was: owners, modes, times, xattrs, hard links, symlinks, FIFOs, sparse files', async () => {
  const { state, poolVolumes } = await stateDir();
  if (await isBtrfs(state)) return console.log('skipped: the temp directory is on btrfs here');
  const source = await richVolume(state, 'n1');
  const before = await manifest(source);
  assert.match(before.sparse!, /sparse=true/, 'the source file is sparse');
  const opened = await openStorage(settings(state));
  assert.equal(opened.migrated, [{ node: 'n1', volume: 'data' }]);
  const target = join(poolVolumes, 'n1', 'data');
  assert.ok(await isBtrfsSubvolume(target));
  assert.equal(await manifest(target), before);
});

t('SIGKILL while cp copies: the next start throws the partial copy away and moves the volume whole', async () => {
  const { state, poolVolumes } = await stateDir();
  if (await isBtrfs(state)) return;
  const source = await richVolume(state, 'n1', 200);
  const before = await manifest(source);
  const staged = join(poolVolumes, 'n1', '.migrating-data');
  // the agent's storage opening in a process of its own, which says when cp starts
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { openStorage } from '${ROOT}agent/storage/select.ts';
       import { exec } from '${ROOT}agent/exec.ts';
       const run = (argv, options) => { const running = exec(argv, options); if (argv[0] === 'cp') process.stdout.write('copying\\n'); return running; };
       await openStorage(JSON.parse(process.env.SETTINGS), run);
       process.stdout.write('done\\n');`,
    ],
    { env: { ...process.env, SETTINGS: JSON.stringify(settings(state)) }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onCleanup(`child ${child.pid}`, () => child.kill('SIGKILL'));
  let said = '';
  child.stdout!.on('data', (d) => {
    said += d;
  });
  await waitFor('cp started', async () => said.includes('copying'), 60_000, 1);
  // cp is stopped as soon as it is seen (mid-copy: 200 MiB take it far longer than finding it), then
  // it and the process are killed; cp outlives its parent otherwise, as under a crashed agent
  const cp = await waitFor('the cp process', () => cpCopyingInto(staged), 10_000, 1);
  process.kill(cp, 'SIGSTOP');
  child.kill('SIGKILL');
  process.kill(cp, 'SIGKILL');
  await exited;
  assert.not.ok(said.includes('done'), 'killed before the migration finished');
  const bytes = async (path: string) => Number((await exec(['du', '-sb', path])).stdout.split('\t')[0]);
  const [partial, whole] = [await bytes(staged), await bytes(source)];
  assert.ok(partial < whole, `the copy was cut off: ${partial} of ${whole} bytes`);
  console.log(`  killed mid-copy: ${partial} of ${whole} bytes copied`);
  assert.equal(await manifest(source), before, 'the source untouched');

  const opened = await openStorage(settings(state));
  assert.equal(opened.migrated, [{ node: 'n1', volume: 'data' }]);
  assert.equal(await manifest(join(poolVolumes, 'n1', 'data')), before, 'byte for byte');
  assert.equal(await readdir(join(poolVolumes, 'n1')), ['data'], 'no partial copy left');
  assert.not.ok(await stat(source).catch(() => null), 'the source went once the copy was in place');
});

for (const point of ['retired', 'placed'] as const) {
  t(`a crash just after the copy was ${point === 'retired' ? 'verified and the source retired' : 'put in place'}: the next start finishes it`, async () => {
    const { state, poolVolumes } = await stateDir();
    if (await isBtrfs(state)) return;
    const source = await richVolume(state, 'n1');
    await richVolume(state, 'n2');
    const before = await manifest(source);
    const crashPoint = (at: string) => {
      if (at === point) throw new Error(`crash at ${at}`);
    };
    const crashed = await openStorage(settings(state), exec, { crashPoint }).catch((error: Error) => error);
    assert.instance(crashed, Error);
    assert.match((crashed as Error).message, new RegExp(`crash at ${point}`));
    const opened = await openStorage(settings(state));
    assert.equal(
      await opened.driver.listVolumes(),
      [
        { node: 'n1', volume: 'data' },
        { node: 'n2', volume: 'data' },
      ],
      'both volumes on the pool',
    );
    assert.equal(opened.migrated, [{ node: 'n2', volume: 'data' }], 'n1 was finished by recovery, n2 moved after it');
    assert.equal(await manifest(join(poolVolumes, 'n1', 'data')), before, 'byte for byte');
    assert.not.ok(await stat(join(state, 'volumes')).catch(() => null), 'nothing left of the directory volumes');
  });
}

t('a real node whose volume moved: stopped for the copy, rebuilt on the pool, and it reads its data', async () => {
  const { state, poolVolumes } = await stateDir();
  if (await isBtrfs(state)) return;
  const ns = await createNetns('mig');
  const run = netnsRunner(ns.name);
  const lxcPath = join(state, 'lxc');
  const name = runName('mig');
  const lxc = (argv: string[]) => run([argv[0]!, '-P', lxcPath, ...argv.slice(1)], { allowFailure: true, timeoutMs: 60_000 });
  onCleanup(`node ${name}`, async () => {
    await lxc(['lxc-stop', '-n', name, '-k']);
    await lxc(['lxc-destroy', '-n', name]);
  });
  const log = pino({ level: 'silent' });
  const driver = new LxcDriver({ lxcPath, templateCache: TEMPLATE_CACHE, run, hostRun: exec, log });
  const start = async (storageDriver: 'dir' | 'auto') => {
    const nodes = new NodesSubsystem({
      config: {
        lxcPath,
        bridge: runName('mbr'),
        nodeSubnet: '198.18.63.0/24',
        name: 'test',
        domain: 'mesh.internal',
        reconcileSeconds: 3600,
        ...settings(state),
        storageDriver,
      },
      driver,
      events: new EventBus(),
      log,
    });
    onCleanup('nodes subsystem', () => nodes.stop());
    await nodes.start();
    return nodes;
  };
  // an earlier station: the node's volume is a plain directory, written from inside the node
  const old = await start('dir');
  assert.is(old.summary().storageDriver, 'dir');
  await old.actions().create({ name, template: 'busybox', volumes: [{ name: 'data', path: '/data' }], modules: [{ name: 'keep', run: 'exec sleep 100000' }] });
  const write = await old
    .actions()
    .exec(name, [
      'sh',
      '-c',
      'echo "written by the node" > /data/note && ln /data/note /data/note2 && chown 1000:1000 /data/note && chmod 640 /data/note && ' +
        'dd if=/dev/zero of=/data/sparse bs=1 count=1 seek=30000000 2>/dev/null && mkdir /data/dir && ln -s ../note /data/dir/link && sync',
    ]);
  assert.is(write.exitCode, 0, write.stderr);
  const source = join(state, 'volumes', name, 'data');
  const before = await manifest(source);
  await old.stop(); // the agent stops; the node keeps running, as after an upgrade
  assert.is((await driver.inspect(name))?.state, 'running');

  const nodes = await start('auto');
  assert.is(nodes.summary().storageDriver, 'btrfs');
  assert.match(String(nodes.summary().storage), /on the pool/);
  const target = join(poolVolumes, name, 'data');
  assert.equal(await manifest(target), before, 'the volume on the pool, byte for byte');
  await nodes.reconcileNow();
  const note = await waitFor(
    'the node reading its note again',
    async () => {
      const r = await nodes
        .actions()
        .exec(name, ['cat', '/data/note'])
        .catch(() => null);
      return r?.exitCode === 0 ? r.stdout : null;
    },
    120_000,
  );
  assert.is(note, 'written by the node\n');
  const mounts = await nodes.actions().exec(name, ['cat', '/proc/mounts']);
  assert.match(mounts.stdout, /\s\/data btrfs\s/, 'its /data is the btrfs subvolume now');
  assert.not.ok(await stat(source).catch(() => null), 'the directory volume is gone');
});

t.run();
