// Part 2 of the orchestrators benchmark: a service's request latency over the cluster's overlay,
// to a task on the same station against a task on another station (across the mesh). In a healthy
// cluster of three, a 3-replica dnsrr busybox httpd service on the `station` overlay (as
// test/integration/orchestrator-swarm.test.ts makes it); each task's station is found from its
// member id (docker inspect of the task) against each station's GET /nodes/NAME .memberId, and its
// overlay address from the task's NetworksAttachments. Then a container of station/busybox on the
// overlay in s1's node makes REQUESTS sequential HTTP/1.0 requests to each target, BATCHES times
// (one container per batch, the targets' order rotated). Busybox's date has no nanoseconds, so the
// container runs the node's own bash (the node's root mounted read-only and chrooted into): each
// request is a connection through bash's /dev/tcp (no process started per request) timed with
// $EPOCHREALTIME (microseconds). A third target, busybox httpd on the container's own loopback, is
// the floor: what a request costs without any network. The mesh's own round trip s1 -> s2 is
// measured alongside: `ping` from s1's namespace to s2's mesh address, and s1's GET /mesh/peers.
import { stationExec, stationOf, type Testbed } from '../../testbed-lib/index.ts';
import { median } from '../lib/stats.ts';
import { call, inNode, waitFor } from '../replicas/testbed-station.ts';
import { reportOf, STATIONS } from './formation.ts';

const SERVICE = 'web';
const WARM_UP = 10;

/** Runs in bash: $1 the number of requests, then NAME:ADDRESS:PORT targets; prints "NAME µs µs …" per target. */
const REQUESTS_SCRIPT = `
n=$1; shift
req() {
  exec 3<>"/dev/tcp/$1/$2" || return 1
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3
  IFS= read -r -d '' -u 3 reply
  exec 3<&-
  [[ $reply == *'hello from'* ]]
}
for t in "$@"; do
  IFS=: read -r name ip port <<< "$t"
  for ((i = 0; i < ${WARM_UP}; i++)); do req "$ip" "$port" || { echo "FAIL $name warm-up $i"; exit 1; }; done
done
for t in "$@"; do
  IFS=: read -r name ip port <<< "$t"
  out=$name
  for ((i = 0; i < n; i++)); do
    t0=$EPOCHREALTIME
    req "$ip" "$port" || { echo "FAIL $name request $i"; exit 1; }
    t1=$EPOCHREALTIME
    out+=" $(( \${t1/./} - \${t0/./} ))"
  done
  echo "$out"
done
`;

/** In the busybox container: httpd on its loopback (the floor), then the node's bash runs the requests. */
const CONTAINER_SCRIPT = [
  'mkdir -p /www && echo "hello from loopback" > /www/index.html',
  'httpd -p 127.0.0.1:8080 -h /www',
  'exec chroot /n /bin/bash -c "$0" requests "$@"',
].join(' && ');

export type Target = 'loopback' | 'local' | 'remote';

export interface LatencyResult {
  requests: number;
  batches: number;
  /** which station's member ran each task, and its overlay address */
  tasks: Record<string, string>;
  /** per target, each batch's per-request times (µs) */
  samples: Record<Target, number[][]>;
  /** ping s1 -> s2 over the mesh from s1's namespace (ms, each reply) */
  meshPingMs: number[];
  /** s1's GET /mesh/peers latencyMs for s2, read at each batch, and how s1 reaches s2 (null: directly) */
  peerLatencyMs: number[];
  peerVia: string | null;
}

/** web's running tasks, as a manager in s1's node lists them: member id -> overlay address. */
async function tasks(tb: Testbed, node: string): Promise<Map<string, string>> {
  const format = [
    '{{.NodeID}} {{.Status.State}}',
    '{{range .NetworksAttachments}}{{if eq .Network.Spec.Name "station"}}{{range .Addresses}} {{.}}{{end}}{{end}}{{end}}',
  ].join('');
  const out = await inNode(tb, 's1', node, `docker inspect -f '${format}' $(docker service ps -q --filter desired-state=running ${SERVICE})`);
  const found = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [id, state, address] = line.trim().split(/\s+/);
    if (id && state === 'running' && address) found.set(id, address.split('/')[0]!);
  }
  return found;
}

async function makeService(tb: Testbed, node: string): Promise<string> {
  const image = (await inNode(tb, 's1', node, "docker images --format '{{.Repository}}:{{.Tag}}' station/busybox")).trim().split('\n')[0] ?? '';
  if (!/^station\/busybox:\d+\.\d+\.\d+$/.test(image)) throw new Error(`no station/busybox image in ${node} on s1 (docker images: ${JSON.stringify(image)})`);
  await waitFor(
    'the station overlay network in s1',
    () => inNode(tb, 's1', node, 'docker network inspect -f "{{.Name}}" station').then(Boolean),
    120_000,
    1000,
  );
  const httpd = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www';
  // --no-resolve-image: the image is on every member, and no registry outside is reachable
  const argv = ['docker', 'service', 'create', '--detach', '--no-resolve-image', '--name', SERVICE, '--replicas', '3'];
  argv.push('--endpoint-mode', 'dnsrr', '--network', 'station', image, 'sh', '-c', httpd);
  const made = await call(tb, 's1', 'POST', `/nodes/${node}/exec`, { command: argv, timeoutSeconds: 120 }, 130);
  if (made.exitCode !== 0) throw new Error(`docker service create in ${node} on s1: exit ${made.exitCode}: ${made.stderr || made.stdout}`);
  return image;
}

const parseMs = (text: string) => [...text.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));

export async function measureLatency(
  tb: Testbed,
  node: string,
  mesh: Record<string, string>,
  o: { requests: number; batches: number; log: (line: string) => void },
): Promise<LatencyResult> {
  const image = await makeService(tb, node);
  const members = Object.fromEntries(await Promise.all(STATIONS.map(async (s) => [s, (await reportOf(tb, s, node))?.memberId ?? ''] as const)));
  const byStation: Record<string, string> = {};
  await waitFor(
    `${SERVICE}'s three tasks running, one on each station`,
    async () => {
      const running = await tasks(tb, node);
      for (const s of STATIONS) {
        const address = running.get(members[s]!);
        if (address) byStation[s] = address;
        else delete byStation[s];
      }
      return running.size === 3 && STATIONS.every((s) => byStation[s]);
    },
    180_000,
    1000,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; members ${JSON.stringify(members)}, tasks seen ${JSON.stringify(byStation)}`)));
  o.log(`service ${SERVICE}: tasks on ${STATIONS.map((s) => `${s} ${byStation[s]}`).join(', ')}`);

  const targets: [Target, string][] = [
    ['loopback', '127.0.0.1:8080'],
    ['local', `${byStation.s1}:80`],
    ['remote', `${byStation.s2}:80`],
  ];
  const samples: Record<Target, number[][]> = { loopback: [], local: [], remote: [] };
  const peerLatencyMs: number[] = [];
  let peerVia: string | null = null;
  for (let b = 0; b < o.batches; b++) {
    const order = targets.map((_, i) => targets[(i + b) % targets.length]!);
    const argv = ['docker', 'run', '--rm', '--network', 'station', '-v', '/:/n:ro', image, 'sh', '-c', CONTAINER_SCRIPT, REQUESTS_SCRIPT];
    argv.push(String(o.requests), ...order.map(([name, at]) => `${name}:${at}`));
    const r = await call(tb, 's1', 'POST', `/nodes/${node}/exec`, { command: argv, timeoutSeconds: 600 }, 610);
    const lines = r.stdout.split('\n').filter(Boolean);
    const failed = lines.find((l: string) => l.startsWith('FAIL'));
    if (r.exitCode !== 0 || failed)
      throw new Error(`requests from a container in ${node} on s1: exit ${r.exitCode}: ${failed ?? (r.stderr || r.stdout).slice(-400)}`);
    for (const [name] of targets) {
      const values =
        lines
          .find((l: string) => l.startsWith(`${name} `))
          ?.split(' ')
          .slice(1)
          .map(Number) ?? [];
      if (values.length !== o.requests || values.some((v: number) => !Number.isFinite(v) || v <= 0))
        throw new Error(`batch ${b + 1}: ${values.length} of ${o.requests} timings for ${name}: ${r.stdout.slice(0, 300)}`);
      samples[name].push(values);
    }
    const peer = ((await call(tb, 's1', 'GET', '/mesh/peers', undefined, 15)).peers as { name: string; latencyMs: number | null; via: string | null }[]).find(
      (p) => p.name === 's2',
    );
    if (peer?.latencyMs != null) peerLatencyMs.push(peer.latencyMs);
    peerVia = peer?.via ?? null;
    const ms = (name: Target) => (median(samples[name].at(-1)!) / 1000).toFixed(3);
    o.log(`requests batch ${b + 1}: per request, median: loopback ${ms('loopback')} ms, local ${ms('local')} ms, remote ${ms('remote')} ms`);
  }
  const ping = await stationExec(stationOf(tb, 's1'), ['ping', '-c', '20', '-i', '0.2', '-n', mesh.s2!], { allowFailure: true, timeoutMs: 60_000 });
  const meshPingMs = parseMs(ping.stdout);
  if (!meshPingMs.length) throw new Error(`ping s1 -> s2 (${mesh.s2}) over the mesh: no reply: ${ping.stdout.slice(-300)}`);
  await inNode(tb, 's1', node, `docker service rm ${SERVICE}`);
  return { requests: o.requests, batches: o.batches, tasks: byStation, samples, meshPingMs, peerLatencyMs, peerVia };
}
