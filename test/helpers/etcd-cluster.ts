// etcd members for tests, each in a namespace of its own joined to the test's namespace (which must be
// a test namespace: insideTestNetns) by a veth pair; the test's namespace routes between them, so an
// nftables rule in its forward chain cuts a member off from the others while the test still reaches
// it (as a cut-off station still reaches its own etcd). Members stop, namespaces go, at cleanup.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../agent/exec.ts';
import { createLogger } from '../../agent/log.ts';
import { EtcdClient } from '../../agent/replicas/lease/etcd-client.ts';
import { clientUrl, EtcdMember, etcdArgv, peerUrl, type RaftTimings } from '../../agent/replicas/lease/etcd-member.ts';
import { onCleanup } from './cleanup.ts';
import { createNetns, link, type Netns } from './netns.ts';
import { RUN_PREFIX } from './run-prefix.ts';
import { waitFor } from './wait.ts';

export interface EtcdTestbed {
  /** member i's address */
  address(i: number): string;
  peerUrl(i: number): string;
  /** a client that talks to member i only */
  client(i: number, timeoutMs?: number): EtcdClient;
  /** starts member i as `name` in the cluster given (name -> peer URL) and waits until it serves */
  start(i: number, name: string, cluster: Record<string, string>, state: 'new' | 'existing'): Promise<EtcdMember>;
}

export async function etcdTestbed(count: number, timings: RaftTimings): Promise<EtcdTestbed> {
  const here: Netns = { name: process.env.STATION_E2E_INNER_NETNS!, run: async (argv) => (await exec(argv)).stdout };
  if (!here.name) throw new Error('etcdTestbed runs inside a test namespace (insideTestNetns)');
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-etcd-`));
  onCleanup(`dir ${dir}`, () => exec(['rm', '-rf', dir]));
  await exec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']); // in the test's own namespace
  const address = (i: number) => `198.18.21.${4 * i + 2}`;
  const spaces: Netns[] = [];
  for (let i = 0; i < count; i++) {
    const ns = await createNetns(`e${i}`);
    await link(here, `198.18.21.${4 * i + 1}/30`, ns, `${address(i)}/30`, `v${i}`);
    await ns.run(['ip', 'route', 'add', 'default', 'via', `198.18.21.${4 * i + 1}`]);
    spaces.push(ns);
  }
  return {
    address,
    peerUrl: (i) => peerUrl(address(i)),
    client: (i, timeoutMs = 800) => new EtcdClient({ endpoints: [clientUrl(address(i))], timeoutMs }),
    async start(i, name, cluster, state) {
      const argv = etcdArgv({ name, dataDir: join(dir, name), address: address(i), cluster, state, clusterToken: RUN_PREFIX, timings });
      const member = new EtcdMember({
        pidFile: join(dir, `${name}.pid`),
        log: createLogger('silent', false),
        argv: ['ip', 'netns', 'exec', spaces[i]!.name, ...argv],
      });
      onCleanup(`etcd ${name}`, () => member.stop());
      member.start();
      await waitFor(`etcd ${name} serving`, async () => member.ready, 60_000).catch((error) => {
        console.error(`  etcd ${name} not ready; its last lines:\n${member.tail().slice(-8).join('\n')}`);
        throw error;
      });
      return member;
    },
  };
}
