// Replicas (issue 14, docs/replicas.md): a node whose Active copy runs here and whose Inactive copies
// wait on the owner's other stations. Its first part runs now: the owner's lease store (an etcd
// member on this station, membership rounds on the authority: lease/lease-store.ts). The node leases,
// the hot copies and promotion are built at the engine layer (lease/, stream/) and join this room next.
import type { Subsystem, SubsystemHealth } from '../subsystem.ts';
import { LeaseStore, type LeaseStoreDeps, type LeaseStoreReport } from './lease/lease-store.ts';

export interface ReplicasReport {
  leaseStore: LeaseStoreReport;
  /** automatic failover needs three voting members; otherwise only a person promotes */
  failover: { automatic: boolean; reason: string | null };
}

export class ReplicasSubsystem implements Subsystem {
  readonly name = 'replicas';
  readonly leaseStore: LeaseStore;

  constructor(deps: LeaseStoreDeps) {
    this.leaseStore = new LeaseStore(deps);
  }

  start(): Promise<void> {
    return this.leaseStore.start();
  }

  stop(): Promise<void> {
    return this.leaseStore.stop();
  }

  health(): SubsystemHealth {
    return this.leaseStore.health();
  }

  report(): ReplicasReport {
    const leaseStore = this.leaseStore.report();
    const automatic = leaseStore.voters >= 3;
    const reason = automatic
      ? null
      : `the lease store has ${leaseStore.voters} voting member(s): automatic failover needs three of the owner's stations, so only a person promotes`;
    return { leaseStore, failover: { automatic, reason } };
  }
}
