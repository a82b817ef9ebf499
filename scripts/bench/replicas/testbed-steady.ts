// The state every round of the testbed part starts from and ends in: one Active copy of the node
// with its lease, and both Inactive copies holding a snapshot taken after a given moment. When the
// Active is caught in the agent race StuckLeaseView describes (seen about once in 25 promotions
// here), nothing would ever be copied again: its agent is restarted (at most twice a run, each said
// in the output and counted in the JSON), after which its old lease runs out and a copy takes the
// node over (or the restarted station takes its lease again); the round goes on from that Active.
import { restartStation, stationOf } from '../../testbed-lib/index.ts';
import { call, copiesInSync, EventStream, NODE, type NodeReplicasView, type Stage, StuckLeaseView, waitFor } from './testbed-station.ts';

const MAX_RECOVERIES = 2;

/** Waits for the steady state with `station` the Active; the Active it ends with (another one after a recovery). */
export async function steady(g: Stage, station: string, after: number): Promise<string> {
  try {
    await copiesInSync(g.tb, station, NODE, 2, after);
    return station;
  } catch (error) {
    if (!(error instanceof StuckLeaseView) || g.recovered.length >= MAX_RECOVERIES) throw error;
    g.log(`${error.message.slice(0, 300)}; an agent race (reported): restarting ${station}'s agent`);
    g.recovered.push(station);
    await restartStation(g.tb, station);
    g.events[station]?.stop();
    g.events[station] = new EventStream(stationOf(g.tb, station));
    const restartedAt = Date.now();
    const active = await waitFor(
      `a station running ${NODE} with its lease after ${station}'s restart`,
      async () => {
        for (const st of g.tb.stations) {
          const view = await call<NodeReplicasView>(g.tb, st.name, 'GET', `/nodes/${NODE}/replicas`, undefined, 10).catch(() => null);
          if (view?.role === 'active' && view.lease?.held) return st.name;
        }
        return null;
      },
      120_000,
      500,
    );
    await copiesInSync(g.tb, active, NODE, 2, restartedAt);
    g.log(`recovered: ${active} runs the Active copy of ${NODE}, both copies in sync`);
    return active;
  }
}
