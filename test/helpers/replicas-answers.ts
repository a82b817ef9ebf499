// Parts of what the agent answers about replicas (api/routes/replicas.ts: ReplicasSchema,
// NodeReplicasSchema), for the tests of what a person reads from them: the CLI
// (test/unit/scripts/cli/replicas-show.test.ts) and the status page (test/unit/api/page-replicas.test.ts,
// test/e2e/page-replicas.test.ts). One station, s1, of an owner with three: the same facts each time.
import type { NodeReplicasView, ReplicasReport } from '../../agent/replicas/replicas-subsystem.ts';

type ReplicaCopy = NodeReplicasView['replicas'][number];

/** s1's member serves and leads; s2 votes; s3 is a learner still catching up: two voters. */
export const TWO_VOTER_LEASE_STORE: ReplicasReport['leaseStore'] = {
  member: 'serving',
  reason: null,
  members: [
    { name: 's1', learner: false, leader: true },
    { name: 's2', learner: false, leader: false },
    { name: 's3', learner: true, leader: false },
  ],
  voters: 2,
};

/** What two voters mean for failover: only a person promotes. */
export const MANUAL_FAILOVER: ReplicasReport['failover'] = {
  automatic: false,
  reason: "the lease store has 2 voting member(s): automatic failover needs three of the owner's stations, so only a person promotes",
};

/** The copy on s2: in sync, its newest snapshot 12.3 s old when read. */
export const COPY_IN_SYNC_ON_S2: ReplicaCopy = {
  station: 's2',
  state: 'in-sync',
  sending: false,
  snapshot: 'auto-2025-06-01T10.00.00.000Z',
  snapshotAt: '2025-06-01T10:00:00.000Z',
  sentAt: '2025-06-01T10:00:02.100Z',
  bytes: 1048576,
  error: null,
  lagSeconds: 12.3,
};

/** The copy on s3: nothing copied yet, its station does not answer. */
export const COPY_FAILING_ON_S3: ReplicaCopy = {
  station: 's3',
  state: 'failing',
  sending: false,
  snapshot: null,
  snapshotAt: null,
  sentAt: null,
  bytes: 0,
  error: 's3 does not answer on its mesh address (connect ETIMEDOUT 10.42.0.3:8088)',
  lagSeconds: null,
};
