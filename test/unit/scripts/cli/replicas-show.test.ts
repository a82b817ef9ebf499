// `station node replicas`, `station replicas`, `station node promote`: what a person reads, from the
// documents the agent answers (api/routes/replicas.ts: NodeReplicasSchema, ReplicasSchema, PromoteSchema),
// and the refusal while another station holds the lease.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { NodeReplicasView, ReplicasReport } from '../../../../agent/replicas/replicas-subsystem.ts';
import { AgentError, type AgentClient, CliError } from '../../../../scripts/cli/client.ts';
import { parseArgs } from '../../../../scripts/cli/command.ts';
import { COMMANDS } from '../../../../scripts/cli/commands/index.ts';
import { leaseHeldElsewhere, showMoved, showNodeReplicas, showPromoted, showReplicas } from '../../../../scripts/cli/commands/replicas.ts';
import { MANUAL_FAILOVER, TWO_VOTER_LEASE_STORE } from '../../../helpers/replicas-answers.ts';

/** On s1, which runs web: s2 in sync and pulling the next set, s3 failing since its station went away. */
const ACTIVE_ON_S1: NodeReplicasView = {
  node: 'web',
  role: 'active',
  active: 's1',
  lease: { held: true, token: 57, holder: 's1', reason: null },
  replicas: [
    {
      station: 's2',
      state: 'in-sync',
      sending: true,
      snapshot: '2026-12-04T20.15.03.123Z-auto',
      snapshotAt: '2026-12-04T20:15:03.123Z',
      sentAt: '2026-12-04T20:15:04.410Z',
      bytes: 1_052_672,
      error: null,
      lagSeconds: 4.2,
    },
    {
      station: 's3',
      state: 'failing',
      sending: false,
      snapshot: '2026-12-04T20.10.03.118Z-auto',
      snapshotAt: '2026-12-04T20:10:03.118Z',
      sentAt: '2026-12-04T20:10:05.002Z',
      bytes: 67_158_016,
      error: 'pull from s3 failed: connect EHOSTUNREACH 10.42.0.3:8088',
      lagSeconds: 304.2,
    },
  ],
  lagSeconds: null,
  held: null,
};

/** On s2, holding a copy of db whose Active runs on s3: two voters only, so it would not promote itself. */
const INACTIVE_ON_S2: NodeReplicasView = {
  node: 'db',
  role: 'inactive',
  active: 's3',
  lease: null,
  replicas: [],
  lagSeconds: 12.5,
  held: 'the lease store has 2 voting member(s): failover is manual',
};

test('node replicas on the Active: the lease with its token, and each Inactive copy with state, lag, snapshot, error', () => {
  const text = showNodeReplicas(ACTIVE_ON_S1);
  assert.match(text, /^role: +active: it runs here$/m);
  assert.match(text, /^lease: +s1, token 57$/m);
  assert.match(text, /^STATION +STATE +LAG +NEWEST SNAPSHOT +ERROR$/m);
  assert.match(text, /^s2 +in-sync, sending +4\.2 s +2026-12-04T20\.15\.03\.123Z-auto *$/m);
  assert.match(text, /^s3 +failing +304\.2 s +2026-12-04T20\.10\.03\.118Z-auto +pull from s3 failed: connect EHOSTUNREACH 10\.42\.0\.3:8088$/m);
});

test('node replicas on the Active without its lease: why, and copies not yet sent show no lag', () => {
  const text = showNodeReplicas({
    ...ACTIVE_ON_S1,
    lease: { held: false, token: null, holder: null, reason: 'fenced: the lease could not be renewed within 10 s' },
    replicas: [{ ...ACTIVE_ON_S1.replicas[0]!, state: 'waiting', sending: false, snapshot: null, snapshotAt: null, sentAt: null, bytes: 0, lagSeconds: null }],
  });
  assert.match(text, /^lease: +not held here: fenced: the lease could not be renewed within 10 s$/m);
  assert.match(text, /^s2 +waiting +- +- *$/m);
});

test('node replicas on an Inactive station: where the Active runs, the lag, why it would not promote itself', () => {
  assert.is(
    showNodeReplicas(INACTIVE_ON_S2),
    [
      'node:      db',
      'role:      inactive: this station holds a copy',
      'active on: s3',
      'lag:       12.5 s since its newest snapshot here was taken',
      'held back: the lease store has 2 voting member(s): failover is manual',
    ].join('\n'),
  );
  assert.match(
    showNodeReplicas({ ...INACTIVE_ON_S2, active: null, lagSeconds: null, held: null }),
    /active on: no station \(nobody holds its lease\)\n.*\nheld back: no$/,
  );
});

test('replicas: members with leader and learner marks, voters, manual failover with its reason, one line per node', () => {
  const report: ReplicasReport = {
    leaseStore: TWO_VOTER_LEASE_STORE,
    failover: MANUAL_FAILOVER,
    nodes: [INACTIVE_ON_S2, ACTIVE_ON_S1],
  };
  const text = showReplicas(report);
  assert.match(text, /^lease store: this station's member serves$/m);
  assert.match(text, /^members: +s1 \(leader\), s2, s3 \(learner\)$/m);
  assert.match(text, /^voters: +2$/m);
  assert.match(text, /^failover: +manual only: the lease store has 2 voting member\(s\): automatic failover needs three/m);
  assert.match(text, /^NODE +ROLE +ACTIVE +LAG +NOTE$/m);
  assert.match(text, /^db +inactive +s3 +12\.5 s +the lease store has 2 voting member\(s\): failover is manual$/m);
  assert.match(text, /^web +active +s1 +s2 4\.2 s, s3 304\.2 s *$/m);
});

test('replicas on a station in no lease store, with nothing replicated', () => {
  const text = showReplicas({
    leaseStore: { member: 'none', reason: 'this station is in no mesh', members: [], voters: 0 },
    failover: { automatic: false, reason: null },
    nodes: [],
  });
  assert.is(
    text,
    [
      'lease store: this station runs no member: this station is in no mesh',
      'members:     none known',
      'voters:      0',
      'failover:    manual only',
      '',
      'no replicated node runs here and no copy is held here',
    ].join('\n'),
  );
});

test('promote: from which station, the new token and the lag; forced without the lease says so', () => {
  assert.is(
    showPromoted({ node: 'web', from: 's1', token: 58, lagSeconds: 8.3 }),
    'web is Active here now (was Active on s1), lease token 58, its newest snapshot was 8.3 s old',
  );
  assert.match(showPromoted({ node: 'web', from: 's1', token: null, lagSeconds: null }), /forced without the lease \(no fencing token\), lag unknown$/);
});

/** A client whose promote call is refused as the agent refuses it while s1 holds the lease. */
const refusing = {
  baseUrl: 'http://127.0.0.1:1',
  post: async () => {
    throw new AgentError('LEASE_HELD_ELSEWHERE', "s1 holds web's lease: its Active copy runs. Promote with --force only once that station is confirmed off", {
      holder: 's1',
    });
  },
} as unknown as AgentClient;

test('promote refused while s1 holds the lease: exit status 1, the holder, and when --force is safe', async () => {
  const promote = COMMANDS.find((c) => c.words.join(' ') === 'node promote')!;
  const error = await promote.run(parseArgs(['web']), refusing).then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(error, CliError);
  assert.not.instance(error, AgentError, 'the refusal is said in the CLI words, not passed through');
  assert.is((error as CliError).exitCode, 1);
  assert.is((error as CliError).message, leaseHeldElsewhere('web', 's1'));
  assert.match((error as CliError).message, /^s1 holds the lease of web: .*\n--force promotes without the lease: only once s1 is confirmed off/);
});

test('promote: --force is sent as force: true, and any other refusal passes through unchanged', async () => {
  const promote = COMMANDS.find((c) => c.words.join(' ') === 'node promote')!;
  const sent: unknown[] = [];
  const incomplete = new AgentError('REPLICA_INCOMPLETE', 'web: no snapshot of data has arrived here yet');
  const client = {
    baseUrl: 'http://127.0.0.1:1',
    post: async (_path: string, body: unknown) => {
      sent.push(body);
      throw incomplete;
    },
  } as unknown as AgentClient;
  const error = await promote.run(parseArgs(['web', '--force'], promote.booleanFlags), client).catch((e: unknown) => e);
  assert.equal(sent, [{ force: true }]);
  assert.is(error, incomplete);
  assert.is((error as CliError).message, 'web: no snapshot of data has arrived here yet (REPLICA_INCOMPLETE)');
});

test('move: sends the target, says where the node runs now and how long it stood still; without --to, the usage', async () => {
  const move = COMMANDS.find((c) => c.words.join(' ') === 'node move')!;
  const sent: [string, unknown][] = [];
  const client = {
    baseUrl: 'http://127.0.0.1:1',
    post: async (path: string, body: unknown) => {
      sent.push([path, body]);
      return { node: 'web', from: 's1', to: 's2', token: 61, downtimeSeconds: 5.1 };
    },
  } as unknown as AgentClient;
  const out = await move.run(parseArgs(['web', '--to', 's2'], move.booleanFlags), client);
  assert.equal(sent, [['/nodes/web/move', { to: 's2' }]]);
  assert.is(out, showMoved({ node: 'web', from: 's1', to: 's2', token: 61, downtimeSeconds: 5.1 }));
  assert.match(String(out), /web runs on s2 now \(moved from s1, lease token 61\); it stood still 5.1 s; the copy on s1 is Inactive/);
  const missing = await move.run(parseArgs(['web'], move.booleanFlags), client).catch((e: unknown) => e);
  assert.instance(missing, CliError);
  assert.is(sent.length, 1, 'nothing sent without a target');
});

test.run();
