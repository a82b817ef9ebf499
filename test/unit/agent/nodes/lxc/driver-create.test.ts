// LxcDriver.create() refuses a node whose host-side veth name another node of the station already
// has (two hashed names can meet: 4 hex digits), before it builds or runs anything: two nodes on
// one veth cannot both run, and the station's anti-spoofing binds each address to its node's veth.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { LxcDriver } from '../../../../../agent/nodes/lxc/driver.ts';
import { vethName } from '../../../../../agent/nodes/lxc/names.ts';
import { ConflictError } from '../../../../../agent/errors.ts';
import type { NodeBuild } from '../../../../../agent/nodes/driver.ts';
import type { Runner } from '../../../../../agent/exec.ts';
import { removeTempDirs, tempDir } from '../../../../helpers/temp-dirs.ts';

// two DNS labels whose hashed veth names are the same (found by search; checked below)
const FIRST = 'kubernet-3047';
const SECOND = 'kubernet-72c6';
const ran: string[] = [];
const recordPrograms: Runner = async (argv) => {
  ran.push(argv.join(' '));
  throw new Error(`unexpected program ${argv[0]}`);
};

const build = (name: string): NodeBuild => ({
  name,
  hostname: name,
  template: 'busybox',
  processes: 4096,
  profile: 'plain',
  autostart: false,
  network: { bridge: 'br0', address: '198.18.60.2/24', gateway: '198.18.60.1', dns: [] },
  volumes: [],
  env: {},
  modules: [],
});

test.after(removeTempDirs);

test('a node whose veth name another node has is refused before anything is built', async () => {
  assert.is(vethName(FIRST), vethName(SECOND));
  const lxcPath = tempDir('driver-create-');
  await mkdir(join(lxcPath, FIRST));
  await writeFile(join(lxcPath, FIRST, 'config'), '# the first node\n');
  const driver = new LxcDriver({ lxcPath, templateCache: tempDir('templates-'), run: recordPrograms, log: pino({ level: 'silent' }) });
  let caught: unknown;
  await driver.create(build(SECOND)).catch((e) => {
    caught = e;
  });
  assert.instance(caught, ConflictError);
  assert.is((caught as ConflictError).code, 'NODE_VETH_TAKEN');
  assert.match(String(caught), new RegExp(`${SECOND}.*${vethName(SECOND)}.*${FIRST}.*choose another name`));
  assert.equal(await readdir(lxcPath), [FIRST], 'nothing was made');
  assert.equal(ran, [], 'no program ran (no template build, no clone)');
});

test.run();
