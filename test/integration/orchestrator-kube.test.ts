// Issue 15's Kubernetes half on the real testbed, where bundles are given: STATION_TEST_BUNDLES=DIR
// holding k3s-bundle.tar and/or microk8s-bundle.tar (made on a connected machine as
// docs/orchestrators.md says). Neither engine can be downloaded on these machines, so without DIR
// the test is skipped and says why. With a bundle: three stations of one owner over real Nebula
// import it, each makes a debian node (microk8s profile) naming cluster `home-KIND`; the agents install
// the engine from the bundle, one founds the cluster, the others join over the mesh: three Ready
// control-plane nodes, the API answering through the cluster's Dynamic Alias; one station removed:
// degraded with quorum; back: healthy. Everything is removed even when a test fails.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exec } from '../../agent/exec.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { fetchPackages } from '../../agent/nodes/lxc/packages.ts';
import { templatePaths } from '../../agent/nodes/templates/cache.ts';
import { formMesh, returnStation, type Testbed } from '../../scripts/testbed-lib/index.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { api, nodeExec, removeStationOutright, stationCli, waitFor } from '../helpers/disk-testbed.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';
import { upForThisRun } from '../helpers/run-testbed.ts';

const STATIONS = ['s1', 's2', 's3'];
const DIR = process.env.STATION_TEST_BUNDLES;
const KINDS = [
  { kind: 'k3s', bundle: 'k3s-bundle.tar', kubectl: ['/usr/local/bin/k3s', 'kubectl'], apiPort: 6443, packages: [] as string[] },
  { kind: 'microk8s', bundle: 'microk8s-bundle.tar', kubectl: ['/snap/bin/microk8s', 'kubectl'], apiPort: 16443, packages: ['snapd', 'squashfuse'] },
].filter((k) => DIR && existsSync(join(DIR, k.bundle)));

const t = suite<{ tb: Testbed }>('orchestrator: K3s and MicroK8s from offline bundles across three stations');

interface Report {
  state: string;
  reason: string | null;
  memberRole: string | null;
  view: { health: string; managers: { total: number; reachable: number; quorum: boolean } } | null;
}

const reportOf = async (tb: Testbed, station: string, node: string): Promise<Report | null> =>
  (await api(tb, station, 'GET', `/nodes/${node}`)).body?.orchestrator ?? null;

async function healthyEverywhere(tb: Testbed, node: string, managers: number): Promise<void> {
  let last: Record<string, Report | null> = {};
  await waitFor(
    `${node}: every station's member in a healthy cluster of ${managers} managers`,
    async () => {
      last = Object.fromEntries(await Promise.all(STATIONS.map(async (s) => [s, await reportOf(tb, s, node)] as const)));
      return STATIONS.every((s) => last[s]?.state === 'member' && last[s]?.view?.health === 'healthy' && last[s]?.view?.managers.total === managers);
    },
    1_200_000,
    5000,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; last seen: ${JSON.stringify(last)}`)));
}

if (!DIR || !KINDS.length) {
  const why = DIR
    ? `${DIR} holds neither k3s-bundle.tar nor microk8s-bundle.tar`
    : 'STATION_TEST_BUNDLES is not set (MicroK8s and K3s cannot be downloaded on these machines; see docs/orchestrators.md, "Offline bundles")';
  console.log(`  skipped: ${why}`);
  t.skip('three stations form a Kubernetes cluster from an imported bundle', () => undefined);
} else {
  t.before(async (ctx) => {
    // the agents' namespaces have no route to Debian's mirror: template and packages ready from here first
    const lxcPath = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-kube-lxc-`));
    onCleanup(`lxcpath ${lxcPath}`, () => rm(lxcPath, { recursive: true, force: true }));
    const driver = new LxcDriver({ lxcPath, templateCache: TEMPLATE_CACHE, run: exec, log: pino({ level: 'silent' }) });
    await driver.ensureTemplate('debian');
    const packages = KINDS.flatMap((k) => k.packages);
    if (packages.length) await fetchPackages(exec, templatePaths(TEMPLATE_CACHE, 'debian').rootfs, join(TEMPLATE_CACHE, 'debs'), packages, () => undefined);
    ctx.tb = await upForThisRun({ stations: 3, publicStations: 1, env: { STATION_TEMPLATE_CACHE: TEMPLATE_CACHE } });
    await formMesh(ctx.tb, 'alice');
    await waitFor('three voting lease store members', async () => (await api(ctx.tb, 's1', 'GET', '/replicas')).body?.leaseStore?.voters === 3, 180_000, 500);
  });
  t.after(cleanupAll);

  for (const k of KINDS) {
    const node = k.kind;
    t(`${k.kind}: imported on each station, three Ready control-plane nodes, the API behind the cluster's alias`, async ({ tb }) => {
      for (const s of STATIONS) {
        const imported = await stationCli(tb, s, 'bundle', 'import', join(DIR!, k.bundle));
        assert.is(imported.exitCode, 0, imported.stderr);
      }
      const spec = {
        name: node,
        template: 'debian',
        profile: 'microk8s',
        resources: { memoryMB: 2048 },
        orchestrator: { kind: k.kind, cluster: `home-${k.kind}` },
      };
      for (const s of STATIONS) assert.is((await api(tb, s, 'POST', '/nodes', spec, 900)).status, 201);
      await healthyEverywhere(tb, node, 3);
      const list = JSON.parse((await nodeExec(tb, 's2', node, [...k.kubectl, 'get', 'nodes', '-o', 'json'])).stdout);
      assert.equal(list.items.length, 3);
      const ready = await nodeExec(tb, 's3', node, [
        ...k.kubectl,
        '--server',
        `https://home-${k.kind}.alice.mesh.internal:${k.apiPort}`,
        'get',
        '--raw',
        '/readyz',
      ]);
      assert.is(ready.stdout.trim(), 'ok', ready.stderr);
    });

    t(`${k.kind}: s3 lost: degraded with quorum; back: healthy`, async ({ tb }) => {
      await removeStationOutright(tb, 's3', [node]);
      const degraded = await waitFor(
        's1 showing the cluster degraded with its quorum',
        async () => {
          const r = await reportOf(tb, 's1', node);
          return r?.view?.health === 'degraded' ? r : null;
        },
        300_000,
        2000,
      );
      assert.equal(degraded.view!.managers, { total: 3, reachable: 2, quorum: true });
      await returnStation(tb, 's3');
      await healthyEverywhere(tb, node, 3);
    });
  }
}

t.run();
