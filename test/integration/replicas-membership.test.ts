// etcd membership following the owner's stations, on real etcd 3.4: a cluster grows from the first
// station's single member to three, one `member add` and start at a time (membership.ts), while a
// node's lease is held and renewed throughout; a station that is gone is removed first and its
// replacement added, and the lease and the data stay. Layout: test/helpers/etcd-cluster.ts.
import { suite } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import type { EtcdClient } from '../../agent/replicas/lease/etcd-client.ts';
import { clientUrl, type EtcdMember, raftTimings } from '../../agent/replicas/lease/etcd-member.ts';
import { joiningCluster, nextChange, wantedMembers } from '../../agent/replicas/lease/membership.ts';
import { NodeLease } from '../../agent/replicas/lease/node-lease.ts';
import { insideTestNetns } from '../e2e/in-netns.ts';
import { cleanupAll, onCleanup } from '../helpers/cleanup.ts';
import { type EtcdTestbed, etcdTestbed } from '../helpers/etcd-cluster.ts';
import { waitFor } from '../helpers/wait.ts';

const NAMES = ['s1', 's2', 's3', 's4'];
const TIMINGS = raftTimings(1);

if (await insideTestNetns(fileURLToPath(import.meta.url), 'members')) {
  let bed: EtcdTestbed;
  const running = new Map<string, EtcdMember>();
  let s1: EtcdClient;
  let lease: NodeLease;
  let fenced: string | null = null;

  /** What the cluster says its members are, by name. */
  const memberNames = async () => (await s1.members()).map((m) => m.name).sort();

  /**
   * etcd refuses a change of voters until the members it keeps were all in touch for a while
   * ("unhealthy cluster" just after one joined or stopped): an agent tries again at its next round.
   */
  function whenHealthy<T>(what: string, change: () => Promise<T>): Promise<T> {
    return waitFor(what, () => change().catch((e: Error) => (/unhealthy cluster/.test(e.message) ? false : Promise.reject(e))), 30_000, 500);
  }

  /** Runs one membership step as an agent would: etcd first (add or remove), then the process. */
  async function step(online: string[]): Promise<{ add: string } | { remove: string } | null> {
    const current = await memberNames();
    const change = nextChange(
      current,
      wantedMembers(
        online.map((name) => ({ name, online: true })),
        current,
      ),
      new Set(online),
    );
    if (!change) return null;
    if ('add' in change) {
      const i = NAMES.indexOf(change.add);
      const added = await whenHealthy(`etcd to take ${change.add} as a member`, () => s1.addMember(bed.peerUrl(i)));
      running.set(change.add, await bed.start(i, change.add, joiningCluster(added.members, change.add, bed.peerUrl(i)), 'existing'));
    } else {
      const member = (await s1.members()).find((m) => m.name === change.remove)!;
      await whenHealthy(`etcd to let ${change.remove} go`, () => s1.removeMember(member.id).then(() => true));
      await running.get(change.remove)?.stop();
      running.delete(change.remove);
    }
    return change;
  }

  const t = suite('replicas: etcd membership follows the stations');

  t.before(async () => {
    bed = await etcdTestbed(NAMES.length, TIMINGS);
    running.set('s1', await bed.start(0, 's1', { s1: bed.peerUrl(0) }, 'new'));
    s1 = bed.client(0, 3000);
    lease = new NodeLease({
      client: s1,
      key: '/station/replicas/alice/web/active',
      self: 's1',
      ttlSeconds: 5,
      marginMs: 2000,
      onFence: (why) => (fenced = why),
    });
    onCleanup('lease', () => lease.stop());
    assert.ok((await lease.acquire()).held);
  });
  t.after(cleanupAll);

  t('grows from one member to three, one add and start at a time, the lease held throughout', async () => {
    await s1.put('/station/test/marker', 'written with one member');
    const steps = [];
    for (let change = await step(['s1', 's2', 's3']); change; change = await step(['s1', 's2', 's3'])) steps.push(change);
    assert.equal(steps, [{ add: 's2' }, { add: 's3' }]);
    assert.equal(await memberNames(), ['s1', 's2', 's3']);
    // every member answers, agrees on the leader, and reads what was written before it joined
    const leaders = await Promise.all([0, 1, 2].map(async (i) => (await bed.client(i).status(clientUrl(bed.address(i)))).leader));
    assert.ok(leaders[0] && leaders.every((l) => l === leaders[0]), `one leader: ${leaders.join(', ')}`);
    assert.is((await bed.client(2).get('/station/test/marker'))?.value, 'written with one member');
    assert.ok(lease.held, `the lease stayed held (fenced: ${fenced})`);
  });

  t('a station gone: its member is removed first, then its replacement added; lease and data stay', async () => {
    await running.get('s3')!.stop(); // s3 loses power
    const online = ['s1', 's2', 's4'];
    const first = await step(online);
    assert.equal(first, { remove: 's3' });
    const second = await step(online);
    assert.equal(second, { add: 's4' });
    assert.is(await step(online), null, 'settled');
    assert.equal(await memberNames(), ['s1', 's2', 's4']);
    assert.is((await bed.client(3).get('/station/test/marker'))?.value, 'written with one member');
    // with s2 stopped too, s1 and s4 still make a quorum of three
    await running.get('s2')!.stop();
    await waitFor(
      'a write with one of three members down',
      async () =>
        s1.put('/station/test/after', 'x').then(
          () => true,
          () => false,
        ),
      10_000,
    );
    assert.ok(lease.held, `the lease stayed held (fenced: ${fenced})`);
  });

  t.run();
}
