// A node runs code of any kind as root, so it is an attacker here: it must not reach the host's
// files or disks. On real LXC, inside a test network namespace, a static probe
// (test/fixtures/node-escape/probe.c) runs in nodes of every template and profile, once as a module
// (started by the node's init, like any workload) and once through exec. It tries the routes
// privileged containers are known to escape by: "shocker" (open_by_handle_at with a handle of the
// host file system's root, reached through the bind-mounted log directory), opening a host block
// device it creates with mknod (a loop device carrying a secret), fresh procfs/sysfs mounts with the
// host's sysctls writable, the kernel log, bpf, system-wide perf events and the host root's keyring.
// A per-run secret file (mode 0600) and a loop device whose first line is that secret are placed on
// the host; no node may print it, but for a microk8s node through the loop device (that profile
// allows every device, as MicroK8s under LXD does: a known route, documented as trusted code only).
// A control run on the host proves the probe does read both there, so "closed" in a node is the
// node's confinement, not a probe that does not work on this machine.
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { exec } from '../../agent/exec.ts';
import type { ProfileName, TemplateName } from '../../agent/nodes/driver.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { lxcHarness, waitFor, type LxcHarness } from '../fixtures/lxc/harness.ts';

const PROBE_SOURCE = new URL('../fixtures/node-escape/probe.c', import.meta.url).pathname;

let h: LxcHarness;
let work: string;
let secret: string;
/** the probe's arguments after the directory: secret path from its file system's root, loop major, minor */
let probeArgs: string[];

/** route -> verdict line ("open ..." or "closed ERRNO") from the probe's output */
function routes(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [, route, verdict, detail] = /^(\S+) (open|closed)\b(.*)$/.exec(line) ?? [];
    if (route) map.set(route, `${verdict}${detail}`);
  }
  return map;
}

test.before(async () => {
  h = await lxcHarness('nesc', 57);
  await h.driver.ensureTemplate('debian', (line) => console.log(`  ${line}`));
  work = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-escape-`));
  onCleanup(`escape dir ${work}`, () => rm(work, { recursive: true, force: true }));
  // the probe: static, so it runs in any node whatever its root filesystem has (glibc's libc.a)
  const tools = join(work, 'tools');
  await exec(['mkdir', '-m', '0755', tools]);
  await exec(['gcc', '-static', '-O1', '-Wall', '-o', join(tools, 'probe'), PROBE_SOURCE], { timeoutMs: 120_000 });
  // the secret: only root on the host may read it
  secret = `station-escape-secret-${randomBytes(12).toString('hex')}`;
  const secretFile = join(work, 'secret');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  const mountPoint = (await exec(['stat', '-c', '%m', secretFile])).stdout.trim();
  // the probe builds ext4's root handle (inode 2); on another file system it says so and the control fails
  assert.is((await stat(mountPoint)).ino, 2, `${mountPoint} is not the root of an ext4-like file system`);
  // a loop device whose first sector holds the secret, like a storage pool on a loop device
  const image = join(work, 'pool.img');
  await writeFile(image, Buffer.concat([Buffer.from(`${secret}\n`), Buffer.alloc(1024 * 1024)]));
  const loop = (await exec(['losetup', '--find', '--show', '--read-only', image])).stdout.trim();
  onCleanup(`loop device ${loop}`, () => exec(['losetup', '-d', loop], { allowFailure: true }));
  const device = (await exec(['stat', '-c', '%Hr %Lr', loop])).stdout.trim().split(' ');
  assert.is(device.length, 2, `major and minor of ${loop}`);
  probeArgs = [relative(mountPoint, secretFile), ...device];
});
test.after(async () => {
  await cleanupAll();
});

test('control: on the host the probe reads the secret through a file handle and through the loop device', async () => {
  const out = (await exec([join(work, 'tools', 'probe'), work, ...probeArgs], { timeoutMs: 60_000 })).stdout;
  const found = routes(out);
  assert.match(found.get('shocker') ?? '', /^open/, out);
  assert.match(found.get('block-device') ?? '', /^open/, out);
  assert.ok(out.includes(`secret-via-shocker ${secret}\n`), out);
  assert.ok(out.includes(`secret-via-block-device ${secret}\n`), out);
});

/** Routes no node of any template or profile may use. */
const CLOSED_FOR_EVERY_NODE = ['open_by_handle_at', 'shocker'];
/** The microk8s profile allows every device (snapd needs loop devices): a known route, for trusted code only. */
const CLOSED_BUT_FOR_MICROK8S = ['block-device'];
/**
 * Routes closed for plain nodes: nesting and microk8s nodes run container engines that need to
 * mount, bpf and keyrings, so they keep them (trusted code only, see agent/nodes/profiles/confinement.ts).
 */
const CLOSED_FOR_PLAIN = ['fresh-procfs', 'fresh-sysfs', 'proc-sys-write', 'sys-write', 'dmesg', 'bpf', 'perf-system-wide', 'keyctl'];

const cases: { template: TemplateName; profile: ProfileName; host: number }[] = [
  { template: 'busybox', profile: 'plain', host: 10 },
  { template: 'busybox', profile: 'nesting', host: 11 },
  { template: 'busybox', profile: 'microk8s', host: 12 },
  { template: 'debian', profile: 'plain', host: 20 },
  { template: 'debian', profile: 'nesting', host: 21 },
  { template: 'debian', profile: 'microk8s', host: 22 },
];

for (const { template, profile, host } of cases) {
  test(`a ${template} node with the ${profile} profile cannot read the host's files or disks`, async () => {
    const probe = ['/escape/probe', '/var/log/station', ...probeArgs];
    const build = h.build(`${template[0]}${profile.slice(0, 3)}`, host, {
      template,
      profile,
      volumes: [{ name: 'escape', source: join(work, 'tools'), path: '/escape', readOnly: true }],
      modules: [{ name: 'escape', run: `${probe.join(' ')} > /var/log/station/escape.out 2>&1; while :; do sleep 3600; done` }],
    });
    await h.driver.create(build);
    try {
      await h.driver.start(build.name);
      const pid = (await h.driver.inspect(build.name))?.pid;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      console.log(
        `  ${build.name} (${template}/${profile}) init: ${status
          .split('\n')
          .filter((l) => /^(CapEff|Seccomp):/.test(l))
          .join(', ')
          .replace(/\t/g, ' ')}`,
      );
      // the module's output is complete when the probe printed its last line
      const outFile = join(h.lxcPath, build.name, 'logs', 'escape.out');
      const asModule = await waitFor(
        'the probe module to finish',
        async () => {
          const text = await readFile(outFile, 'utf8');
          return /^done$/m.test(text) ? text : null;
        },
        60_000,
        200,
      );
      const viaExec = await h.driver.exec(build.name, probe);
      assert.is(viaExec.exitCode, 0, viaExec.stderr);
      for (const [how, out] of [
        ['module', asModule],
        ['exec', viaExec.stdout],
      ] as const) {
        const found = routes(out);
        console.log(`    ${how}: ${[...found].map(([r, v]) => `${r}=${v.split(' ')[0] === 'open' ? 'OPEN' : v.split(' ')[1]}`).join(' ')}`);
        const leaks = out.split('\n').filter((l) => l.includes(secret));
        const allowed = profile === 'microk8s' ? [`secret-via-block-device ${secret}`] : [];
        assert.equal(
          leaks.filter((l) => !allowed.includes(l)),
          [],
          `${template}/${profile} node (${how}) read the host's secret:\n${out}`,
        );
        const mustClose = [
          ...CLOSED_FOR_EVERY_NODE,
          ...(profile === 'microk8s' ? [] : CLOSED_BUT_FOR_MICROK8S),
          ...(profile === 'plain' ? CLOSED_FOR_PLAIN : []),
        ];
        for (const route of mustClose) {
          assert.ok(found.has(route), `${how}: the probe did not report ${route}:\n${out}`);
          assert.match(found.get(route)!, /^closed/, `${template}/${profile} node (${how}): ${route} is ${found.get(route)}\n${out}`);
        }
      }
    } finally {
      await h.driver.destroy(build.name);
    }
  });
}

test.run();
