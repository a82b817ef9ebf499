// The state every round of the testbed part starts from and ends in: one Active copy of the node
// with its lease, and both Inactive copies holding a snapshot taken after a given moment. An Active
// caught without its own lease view (StuckLeaseView, an agent race fixed since) fails the run.
import { copiesInSync, NODE, type Stage } from './testbed-station.ts';

/** Waits for the steady state with `station` the Active; returns it. */
export async function steady(g: Stage, station: string, after: number): Promise<string> {
  await copiesInSync(g.tb, station, NODE, 2, after);
  return station;
}
