// Issue 15 on the real testbed: three stations of one owner over real Nebula, each running a debian
// node `sw` (nesting profile) whose spec names Docker Swarm cluster `home` as a manager. The agents
// install docker.io in the nodes, one of them (the founder the owner's lease store names) starts the
// swarm, and the others join it with tokens fetched over the mesh: `docker node ls` inside any shows
// three Ready managers. A service of three busybox httpd replicas (DNS round-robin: this kernel has no
// IPVS) on the station overlay network spreads over the three stations and answers by name from every
// member. One station's namespace is removed (a power loss): the swarm keeps its quorum, the lost
// replica runs again on the two others, every one still answers, and the API says degraded with
// quorum; the station comes back and it is healthy again. Bad specs are refused with nothing made.
// Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { formMesh, returnStation, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { fetchPackages } from '../../agent/nodes/lxc/packages.ts';
import { templatePaths } from '../../agent/nodes/templates/cache.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { api, nodeExec, removeStationOutright, stationCli, waitFor } from '../helpers/disk-testbed.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const STATIONS = ['s1', 's2', 's3'];
const SPEC = {
  name: 'sw',
  template: 'debian',
  profile: 'nesting',
  resources: { memoryMB: 1024 },
  orchestrator: { kind: 'swarm', cluster: 'home' },
};

interface Report {
  state: string;
  memberId: string | null;
  reason: string | null;
  memberRole: string | null;
  engineVersion: string | null;
  view: { health: string; reason: string | null; leader: string | null; managers: { total: number; reachable: number; quorum: boolean } } | null;
}

const reportOf = async (tb: Testbed, station: string): Promise<Report | null> => (await api(tb, station, 'GET', '/nodes/sw')).body?.orchestrator ?? null;

/** Runs `sh -c script` in a throw-away busybox container on the cluster's overlay network, inside `station`'s node. */
const onOverlay = (tb: Testbed, station: string, script: string) =>
  nodeExec(tb, station, 'sw', [
    'sh',
    '-c',
    `docker run --rm --network station $(docker images --format '{{.Repository}}:{{.Tag}}' station/busybox | head -1) sh -c '${script}'`,
  ]);

/** What `web` answers over the overlay, by name, from a container in `station`'s node (one request). */
const askWeb = async (tb: Testbed, station: string) =>
  (await onOverlay(tb, station, 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 5 web 80')).stdout.split('\n').find((l) => l.startsWith('hello from')) ?? '';

/** The swarm member ids running web's tasks, as a manager in `station` lists them (every node is named sw). */
async function tasksOn(tb: Testbed, station: string): Promise<string[]> {
  const script = "docker inspect -f '{{.NodeID}} {{.Status.State}}' $(docker service ps -q --filter desired-state=running web)";
  const out = await nodeExec(tb, station, 'sw', ['sh', '-c', script]);
  return out.stdout
    .split('\n')
    .filter((l) => l.endsWith(' running'))
    .map((l) => l.split(' ')[0]!)
    .sort();
}

const memberId = async (tb: Testbed, station: string) => (await reportOf(tb, station))?.memberId ?? '';

const t = suite<{ tb: Testbed }>('orchestrator: a Docker Swarm of three stations over the mesh');

/**
 * The agents run in the stations' namespaces, which have no route to Debian's mirror: the debian
 * template and docker.io's packages are made ready in the shared template cache from this (the
 * machine's) namespace first, as the node harness does, and the agents install from there.
 */
async function templateAndPackages(): Promise<void> {
  const lxcPath = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-orch-lxc-`));
  onCleanup(`lxcpath ${lxcPath}`, () => rm(lxcPath, { recursive: true, force: true }));
  const driver = new LxcDriver({ lxcPath, templateCache: TEMPLATE_CACHE, run: exec, log: pino({ level: 'silent' }) });
  await driver.ensureTemplate('debian');
  await fetchPackages(exec, templatePaths(TEMPLATE_CACHE, 'debian').rootfs, join(TEMPLATE_CACHE, 'debs'), ['docker.io', 'docker-registry'], () => undefined);
}

t.before(async (ctx) => {
  await templateAndPackages();
  ctx.tb = await upForThisRun({
    stations: 3,
    publicStations: 1,
    env: { STATION_REPLICAS_ROUND_SECONDS: '1', STATION_MESH_SYNC_SECONDS: '2', STATION_TEMPLATE_CACHE: TEMPLATE_CACHE },
  });
  await formMesh(ctx.tb, 'alice');
  // the founder of a new cluster is named by the owner's lease store
  await waitFor('three voting lease store members', async () => (await api(ctx.tb, 's1', 'GET', '/replicas')).body?.leaseStore?.voters === 3, 180_000, 500);
});
t.after(cleanupAll);

t("an orchestrator on a busybox node, an unknown kind, or another owner's cluster: 400, nothing made", async ({ tb }) => {
  const busybox = await api(tb, 's1', 'POST', '/nodes', { ...SPEC, template: 'busybox' });
  assert.equal([busybox.status, busybox.body.error?.code], [400, 'ORCHESTRATOR_NEEDS_DEBIAN']);
  const plain = await api(tb, 's1', 'POST', '/nodes', { ...SPEC, profile: 'plain' });
  assert.equal([plain.status, plain.body.error?.code], [400, 'ORCHESTRATOR_NEEDS_NESTING']);
  const unknown = await api(tb, 's1', 'POST', '/nodes', { ...SPEC, orchestrator: { kind: 'nomad', cluster: 'home' } });
  assert.is(unknown.status, 400, JSON.stringify(unknown.body));
  const bob = await api(tb, 's1', 'POST', '/nodes', { ...SPEC, orchestrator: { kind: 'swarm', cluster: 'home.bob' } });
  assert.equal([bob.status, bob.body.error?.code], [400, 'ORCHESTRATOR_OTHER_OWNER']);
  assert.is((await api(tb, 's1', 'GET', '/nodes/sw')).status, 404, 'no node was made');
});

t('a swarm-manager node on each station: one cluster of three Ready managers, healthy', async (ctx) => {
  const { tb } = ctx;
  const made = await Promise.all(STATIONS.map((s) => api(tb, s, 'POST', '/nodes', SPEC, 900)));
  for (const [i, m] of made.entries()) assert.is(m.status, 201, `${STATIONS[i]}: ${JSON.stringify(m.body)}`);
  const since = Date.now();
  let last: Record<string, Report | null> = {};
  await waitFor(
    'every node a manager of one healthy swarm of three',
    async () => {
      last = Object.fromEntries(await Promise.all(STATIONS.map(async (s) => [s, await reportOf(tb, s)] as const)));
      return STATIONS.every((s) => last[s]?.state === 'member' && last[s]?.view?.health === 'healthy' && last[s]?.view?.managers.total === 3);
    },
    600_000,
    2000,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
  console.log(`  three managers, healthy, ${((Date.now() - since) / 1000).toFixed(0)} s after the nodes were made (engine ${last.s1?.engineVersion})`);
  const ls = await nodeExec(tb, 's2', 'sw', ['docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}']);
  const rows = ls.stdout.trim().split('\n').sort();
  assert.is(rows.length, 3, ls.stdout);
  for (const row of rows) assert.match(row, /^sw \S*|Ready (Leader|Reachable)$/);
  assert.equal(
    rows.map((r) => r.split(' ')[1]),
    ['Ready', 'Ready', 'Ready'],
    ls.stdout,
  );
  // the cluster's name follows its managers: every station's resolver answers home.alice.<domain>
  for (const s of STATIONS) {
    const alias = await waitFor(
      `${s} answering home.alice.mesh.internal`,
      async () => ((await api(tb, s, 'GET', '/aliases')).body?.records ?? []).find((r: { name: string }) => r.name === 'home.alice.mesh.internal') ?? null,
      60_000,
      500,
    );
    assert.ok(STATIONS.includes(alias.station), `a manager's station answers: ${JSON.stringify(alias)}`);
  }
});

t('a service of three busybox httpd replicas spreads over the three stations and answers by name from every member', async ({ tb }) => {
  const image = (await nodeExec(tb, 's1', 'sw', ['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}', 'station/busybox'])).stdout.trim().split('\n')[0];
  assert.match(image ?? '', /^station\/busybox:\d+\.\d+\.\d+$/, 'the station/busybox image is on the node');
  const create = await nodeExec(tb, 's1', 'sw', [
    // --no-resolve-image: the image is local to every member (no registry to ask; Docker Hub is not reachable)
    'docker',
    'service',
    'create',
    '--detach',
    '--no-resolve-image',
    '--name',
    'web',
    '--replicas',
    '3',
    '--endpoint-mode',
    'dnsrr',
    '--network',
    'station',
    image!,
    'sh',
    '-c',
    'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www',
  ]);
  assert.is(create.exitCode, 0, create.stderr);
  const nodes = await waitFor('web running on three nodes', async () => ((await tasksOn(tb, 's1')).length === 3 ? tasksOn(tb, 's1') : null), 180_000, 1000);
  const members = (await Promise.all(STATIONS.map((s) => memberId(tb, s)))).sort();
  assert.equal(nodes, members, "one replica on each station's member");
  for (const s of STATIONS) {
    const answer = await waitFor(`web answering by name from ${s}`, async () => (await askWeb(tb, s)) || null, 60_000, 1000);
    assert.match(answer, /^hello from /);
  }
});

t("an image built on s1's member reaches the others through the cluster's own registry, over the mesh", async ({ tb }) => {
  const registry = 'home.alice.mesh.internal:5000';
  const base = (await nodeExec(tb, 's1', 'sw', ['docker', 'images', '--format', '{{.Repository}}:{{.Tag}}', 'station/busybox'])).stdout.trim().split('\n')[0];
  const build = [
    `printf 'FROM ${base}\\nRUN echo built on s1 > /built\\n' | DOCKER_BUILDKIT=0 docker build -q -t ${registry}/hello:1 -`,
    `docker push ${registry}/hello:1`,
  ].join(' && ');
  const pushed = await nodeExec(tb, 's1', 'sw', ['sh', '-c', build]);
  assert.is(pushed.exitCode, 0, pushed.stderr || pushed.stdout);
  for (const s of ['s2', 's3']) {
    const run = await nodeExec(tb, s, 'sw', ['docker', 'run', '--rm', `${registry}/hello:1`, 'cat', '/built']);
    assert.is(run.exitCode, 0, `${s}: ${run.stderr}`);
    assert.is(run.stdout.trim(), 'built on s1', `${s} pulled it from the registry`);
  }
});

t('s3 lost (its namespace removed): quorum kept, its replica runs on the two others and answers; degraded, then healthy once s3 is back', async ({ tb }) => {
  const lost = await memberId(tb, 's3');
  const kept = [await memberId(tb, 's1'), await memberId(tb, 's2')];
  await removeStationOutright(tb, 's3', ['sw']);
  const lostAt = Date.now();
  const degraded = await waitFor(
    's1 showing the cluster degraded with its quorum',
    async () => {
      const r = await reportOf(tb, 's1');
      return r?.view?.health === 'degraded' ? r : null;
    },
    120_000,
    1000,
  );
  assert.equal(degraded.view!.managers, { total: 3, reachable: 2, quorum: true });
  assert.match(degraded.view!.reason ?? '', /keeps its quorum/);
  console.log(`  degraded with quorum ${((Date.now() - lostAt) / 1000).toFixed(0)} s after s3 was removed: ${degraded.view!.reason}`);
  const running = await waitFor(
    "web's three replicas running on s1 and s2",
    async () => {
      const nodes = await tasksOn(tb, 's1');
      return nodes.length === 3 && !nodes.includes(lost) && nodes.every((n) => kept.includes(n)) ? nodes : null;
    },
    180_000,
    1000,
  );
  console.log(`  three replicas again on ${running.join(', ')} ${((Date.now() - lostAt) / 1000).toFixed(0)} s after the loss`);
  for (const s of ['s1', 's2']) assert.match(await waitFor(`web answering from ${s}`, async () => (await askWeb(tb, s)) || null, 60_000, 1000), /^hello from /);

  await returnStation(tb, 's3');
  const backAt = Date.now();
  await waitFor(
    'the cluster healthy again with s3 back',
    async () => {
      const [r1, r3] = [await reportOf(tb, 's1'), await reportOf(tb, 's3')];
      return r1?.view?.health === 'healthy' && r1.view.managers.reachable === 3 && r3?.state === 'member';
    },
    300_000,
    2000,
  );
  console.log(`  healthy again ${((Date.now() - backAt) / 1000).toFixed(0)} s after s3 came back`);
});

t("a K3s node: eth0 inside the mesh's MTU; it says a bundle is needed, then installs an imported one (a double) and says it does not run", async ({ tb }) => {
  // K3s itself cannot be downloaded here (its cluster test: orchestrator-kube.test.ts, with bundles)
  const spec = { name: 'kube', template: 'debian', profile: 'microk8s', resources: { memoryMB: 256 }, orchestrator: { kind: 'k3s', cluster: 'lab' } };
  const made = await api(tb, 's1', 'POST', '/nodes', spec, 900);
  assert.is(made.status, 201, JSON.stringify(made.body));
  const mtu = await nodeExec(tb, 's1', 'kube', ['cat', '/sys/class/net/eth0/mtu']);
  assert.is(mtu.stdout.trim(), '1300', 'flannel sizes its VXLAN from eth0: its packets must fit inside Nebula');
  const report = await waitFor(
    'kube reporting that it needs a bundle',
    async () => {
      const r = (await api(tb, 's1', 'GET', '/nodes/kube')).body?.orchestrator;
      return r?.state === 'error' ? r : null;
    },
    120_000,
    1000,
  );
  assert.match(report.reason, /k3s needs an offline bundle: none was imported \(station bundle import FILE\)/);
  // a bundle double (named so): busybox in K3s's binary's place (an ELF, so the bundle is accepted) and
  // a small images tar. The agent streams both into the node for real; busybox is no K3s, so it says so.
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-bundle-`));
  onCleanup(`bundle double ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const binary = { x64: 'k3s', arm64: 'k3s-arm64', arm: 'k3s-armhf' }[process.arch as string] ?? 'k3s';
  const images = `k3s-airgap-images-${{ k3s: 'amd64', 'k3s-arm64': 'arm64', 'k3s-armhf': 'arm' }[binary]}.tar`;
  await exec(['cp', '/bin/busybox', join(dir, binary)]);
  await exec(['tar', '-cf', join(dir, images), '-C', dir, binary]);
  await exec(['tar', '-cf', join(dir, 'bundle.tar'), '-C', dir, binary, images]);
  const imported = await stationCli(tb, 's1', 'bundle', 'import', join(dir, 'bundle.tar'));
  assert.is(imported.exitCode, 0, imported.stderr);
  const broken = await waitFor(
    'kube saying the installed K3s does not run',
    async () => {
      const r = (await api(tb, 's1', 'GET', '/nodes/kube')).body?.orchestrator;
      return /was installed but does not run in the node/.test(r?.reason ?? '') ? r : null;
    },
    120_000,
    1000,
  );
  assert.is(broken.state, 'error');
  const sum = async (command: string[]) => (await exec(command)).stdout.split(' ')[0];
  const inNode = await nodeExec(tb, 's1', 'kube', ['sha256sum', '/usr/local/bin/k3s', `/var/lib/rancher/k3s/agent/images/${images}`]);
  assert.is(inNode.exitCode, 0, inNode.stderr);
  const [binarySum, imagesSum] = inNode.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]);
  assert.is(binarySum, await sum(['sha256sum', '/bin/busybox']), 'the binary arrived whole');
  assert.is(imagesSum, await sum(['sha256sum', join(dir, images)]), 'the images arrived whole');
  assert.is((await api(tb, 's1', 'DELETE', '/nodes/kube', undefined, 120)).status, 200);
});

t.run();
