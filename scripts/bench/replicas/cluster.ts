// Three etcd members for the replicas benchmark, run as the integration tests run them
// (test/helpers/etcd-cluster.ts) but named with the benchmark's prefix: each member in a network
// namespace of its own, joined by a veth pair to the benchmark's namespace (the hub, where this
// process runs), which routes between them. Each station's client talks only to its own member. A
// station that loses power: its member killed with SIGKILL (on SIGTERM etcd would hand its
// leadership over first, which a dead station cannot). A station cut off but alive: an nftables
// table in the hub's forward chain drops what goes to or comes from its member (as in
// replicas-lease; the station still reaches its own member).
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { createLogger } from '../../../agent/log.ts';
import { EtcdClient } from '../../../agent/replicas/lease/etcd-client.ts';
import type { EtcdStatus } from '../../../agent/replicas/lease/etcd-gateway.ts';
import { clientUrl, EtcdMember, etcdArgv, peerUrl, type RaftTimings } from '../../../agent/replicas/lease/etcd-member.ts';
import { removeNetns } from '../../lib/netns.ts';
import { waitFor } from '../../../test/helpers/wait.ts';

export const STATIONS = ['s1', 's2', 's3'] as const;

export interface ClusterOptions {
  /** the run's prefix: namespaces PREFIXe0.., veths PREFIXv0a.., the nftables table PREFIXcut */
  prefix: string;
  /** the benchmark's own namespace, which routes between the members */
  hub: string;
  /** the run's directory: the members' data and pid files */
  dir: string;
  timings: RaftTimings;
  /** undone in reverse order at the end, also after a failure */
  onCleanup(what: string, undo: () => Promise<void>): void;
}

export interface Cluster {
  /** a client of member i only (what station i's agent talks to) */
  client(i: number): EtcdClient;
  status(i: number): Promise<EtcdStatus>;
  /** Waits until every member answers, all follow one leader and hold the same revision; the leader's index. */
  settled(timeoutMs?: number): Promise<number>;
  /** Station i loses power: its member killed (SIGKILL), not restarted. */
  powerOff(i: number): Promise<void>;
  /** Station i's member starts again from its data and serves. */
  powerOn(i: number): Promise<void>;
  /** Station i is cut off from the others (its member still reaches this process). */
  cut(i: number): Promise<void>;
  heal(i: number): Promise<void>;
}

// 198.18.0.0/15, inside the benchmark's namespaces only; the hub's end of pair i is .4i+1
const address = (i: number) => `198.18.71.${4 * i + 2}`;

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const hubExec = (argv: string[], input?: string) => exec(argv, { netns: o.hub, ...(input === undefined ? {} : { input }) });
  const space = (i: number) => `${o.prefix}e${i}`;
  const table = `${o.prefix}cut`;
  await hubExec(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  for (const i of STATIONS.keys()) {
    o.onCleanup(`namespace ${space(i)}`, () => removeNetns(space(i)));
    await exec(['ip', 'netns', 'add', space(i)]);
    await exec(['ip', '-n', space(i), 'link', 'set', 'lo', 'up']);
    const [hubIf, memberIf] = [`${o.prefix}v${i}a`, `${o.prefix}v${i}b`];
    await exec(['ip', 'link', 'add', hubIf, 'netns', o.hub, 'type', 'veth', 'peer', 'name', memberIf, 'netns', space(i)]);
    await exec(['ip', '-n', o.hub, 'addr', 'add', `198.18.71.${4 * i + 1}/30`, 'dev', hubIf]);
    await exec(['ip', '-n', space(i), 'addr', 'add', `${address(i)}/30`, 'dev', memberIf]);
    await exec(['ip', '-n', o.hub, 'link', 'set', hubIf, 'up']);
    await exec(['ip', '-n', space(i), 'link', 'set', memberIf, 'up']);
    await exec(['ip', '-n', space(i), 'route', 'add', 'default', 'via', `198.18.71.${4 * i + 1}`]);
  }
  o.onCleanup(`nftables table ${table}`, async () => {
    await exec(['nft', 'delete', 'table', 'inet', table], { netns: o.hub, allowFailure: true });
  });

  const cluster = Object.fromEntries(STATIONS.map((name, i) => [name, peerUrl(address(i))]));
  const members: (EtcdMember | undefined)[] = [];
  o.onCleanup('etcd members', async () => {
    await Promise.all(members.map((m) => m?.stop()));
  });
  const clients = STATIONS.map((_, i) => new EtcdClient({ endpoints: [clientUrl(address(i))], timeoutMs: 800 }));

  /** Starts member i (from its data when it has some: etcd then ignores the initial cluster) and waits until it serves. */
  const start = async (i: number): Promise<void> => {
    const name = STATIONS[i]!;
    const argv = etcdArgv({ name, dataDir: join(o.dir, name), address: address(i), cluster, state: 'new', clusterToken: o.prefix, timings: o.timings });
    let served = () => {};
    const serving = new Promise<void>((resolve) => (served = resolve));
    const member = new EtcdMember({
      pidFile: join(o.dir, `${name}.pid`),
      log: createLogger('silent', false),
      argv: ['ip', 'netns', 'exec', space(i), ...argv],
      onReady: () => served(),
    });
    members[i] = member;
    member.start();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`etcd ${name} did not serve within 60 s; its last lines:\n${member.tail().slice(-8).join('\n')}`)), 60_000);
    });
    await Promise.race([serving, late]).finally(() => clearTimeout(timer));
  };
  await Promise.all(STATIONS.map((_, i) => start(i)));

  const status = (i: number) => clients[i]!.status(clientUrl(address(i)));
  return {
    client: (i) => clients[i]!,
    status,
    async settled(timeoutMs = 60_000) {
      return waitFor(
        'every etcd member to follow one leader at one revision',
        async () => {
          const all = await Promise.all(STATIONS.map((_, i) => status(i)));
          const leader = all[0]!.leader;
          if (!leader || all.some((s) => s.leader !== leader || s.revision !== all[0]!.revision)) return false;
          const index = all.findIndex((s) => s.memberId === leader);
          return index >= 0 ? { index } : false;
        },
        timeoutMs,
        50,
      ).then((r) => r.index);
    },
    async powerOff(i) {
      const member = members[i]!;
      if (!member.signal('SIGKILL')) throw new Error(`etcd ${STATIONS[i]} was not running`);
      await member.stop(); // no restart; resolves once the killed process was reaped
    },
    powerOn: start,
    async cut(i) {
      const rules = [
        `table inet ${table} {`,
        '  chain cut {',
        '    type filter hook forward priority 0;',
        `    ip saddr ${address(i)} drop`,
        `    ip daddr ${address(i)} drop`,
        '  }',
        '}',
        '',
      ];
      await hubExec(['nft', '-f', '-'], rules.join('\n'));
    },
    async heal() {
      await hubExec(['nft', 'delete', 'table', 'inet', table]);
    },
  };
}
