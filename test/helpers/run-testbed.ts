// A testbed for this test run (scripts/testbed-lib): its namespaces, agents and state carry the run
// prefix, and it is torn down by the run's cleanup, also when a test fails.
import { down, type Testbed, type UpOptions, up } from '../../scripts/testbed-lib/index.ts';
import { onCleanup } from './cleanup.ts';
import { RUN_PREFIX } from './run-prefix.ts';

export function upForThisRun(options: Omit<UpOptions, 'prefix'>): Promise<Testbed> {
  onCleanup(`testbed ${RUN_PREFIX}`, () => down(RUN_PREFIX));
  return up({ prefix: RUN_PREFIX, ...options });
}
