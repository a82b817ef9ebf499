// What a SIGKILLed agent leaves behind. A create killed at any point is reported `partial: true`
// (never a node that looks whole) and can be destroyed and made again; nodes started by an agent
// keep running after its whole process group is SIGKILLed (the LXC monitor is not in it).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeBuild } from '../../agent/nodes/driver.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { lxcHarness, TEMPLATE_CACHE, waitFor, type LxcHarness } from '../fixtures/lxc/harness.ts';

let h: LxcHarness;
const CHILD = new URL('../fixtures/lxc/driver-child.ts', import.meta.url).pathname;

test.before(async () => {
  h = await lxcHarness('lxk', 44);
  await h.driver.ensureTemplate('debian');
  await h.driver.ensureTemplate('busybox');
});
test.after(async () => {
  await cleanupAll();
});

function child(args: Record<string, unknown>): { proc: ChildProcess; lines: string[]; killGroup: () => Promise<void> } {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify({ lxcPath: h.lxcPath, templateCache: TEMPLATE_CACHE, netns: h.ns.name, ...args })], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
  const exited = new Promise((r) => proc.once('exit', r));
  // the whole process group, as when a service manager kills the agent and everything it spawned
  const killGroup = async () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    await exited;
  };
  onCleanup(`driver child ${proc.pid}`, killGroup);
  return { proc, lines, killGroup };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

// Kill points: as soon as the node directory appears, in the middle of the rootfs copy, and
// during the package download/install that follows the clone.
const killPoints: { label: string; when: (dir: string, lines: string[]) => Promise<boolean> }[] = [
  { label: 'right after the directory appears', when: (dir) => exists(dir) },
  { label: 'during the rootfs copy', when: async (dir) => exists(join(dir, 'rootfs/etc')) },
  { label: 'after the clone, while packages are fetched', when: async (_dir, lines) => lines.some((l) => /clone of/.test(l)) },
];

for (const [i, point] of killPoints.entries()) {
  test(`a create SIGKILLed ${point.label} is reported partial, then destroyed and made again`, async () => {
    const build: NodeBuild = h.build(`part${i}`, 50 + i, {
      template: 'debian',
      profile: 'nesting',
      modules: [{ name: 'tools', packages: ['busybox'] }],
    });
    const dir = join(h.lxcPath, build.name);
    const c = child({ action: 'create', build });
    await waitFor(point.label, () => point.when(dir, c.lines), 60_000, 5);
    await c.killGroup();
    assert.not.ok(c.lines.includes('created'), 'the create finished before the kill: the kill point is too late');
    const node = (await h.driver.list()).find((n) => n.name === build.name);
    assert.ok(node, 'the half-made node is listed');
    assert.equal(node.partial, true);
    assert.equal((await h.driver.inspect(build.name))?.partial, true);
    // the service's answer to a partial node: destroy and make it again
    await h.driver.destroy(build.name);
    assert.equal(await h.driver.inspect(build.name), null);
    await h.driver.create(build);
    assert.equal((await h.driver.inspect(build.name))?.partial, false);
    await h.driver.destroy(build.name);
  });
}

test('a running node survives the agent process group being SIGKILLed', async () => {
  const build = h.build('live', 60);
  await h.driver.create(build);
  const c = child({ action: 'start', name: build.name });
  await waitFor('child started the node', async () => c.lines.includes('started'), 30_000);
  const node = await h.driver.inspect(build.name);
  assert.equal(node?.state, 'running');
  // the container's init is not in the agent's process group or session
  const [, , , , pgid, sid] = (await readFile(`/proc/${node!.pid}/stat`, 'utf8'))
    .replace(/^.*\) /, 'x x ')
    .split(' ')
    .slice(0, 6)
    .map(Number);
  assert.not.equal(pgid, c.proc.pid);
  assert.not.equal(sid, c.proc.pid);
  await c.killGroup();
  await new Promise((r) => setTimeout(r, 500));
  const after = await h.driver.inspect(build.name);
  assert.equal(after?.state, 'running');
  assert.equal(after?.pid, node!.pid);
  assert.equal((await h.driver.exec(build.name, ['true'])).exitCode, 0);
  await h.driver.destroy(build.name);
});

test.run();
