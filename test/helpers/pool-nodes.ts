// The nodes subsystem of a test station, run in the test's own process: real LXC inside the test
// network namespace, its own bridge and /24, node volumes and the lxcpath (<pool>/lxc) on a
// loop-backed btrfs pool the test made (the btrfs storage driver finds it mounted and uses it).
import { join } from 'node:path';
import { pino } from 'pino';
import type { EventBus } from '../../agent/events.ts';
import { exec } from '../../agent/exec.ts';
import { LxcDriver } from '../../agent/nodes/lxc/driver.ts';
import { netnsRunner } from '../../agent/nodes/lxc/netns-runner.ts';
import { NodesSubsystem } from '../../agent/nodes/subsystem.ts';
import type { LoopPool } from '../../agent/storage/pool.ts';
import { TEMPLATE_CACHE } from '../fixtures/lxc/harness.ts';
import { runName } from './run-prefix.ts';

export interface PoolNodesOptions {
  stateDir: string;
  /** the test network namespace the containers run in */
  netns: string;
  pool: LoopPool;
  poolMb: number;
  /** the first three octets of the node /24 */
  subnet: string;
  reconcileSeconds: number;
  events: EventBus;
}

/** A nodes subsystem (not started) on `pool`; its containers live in `<pool>/lxc`. */
export function poolNodes(o: PoolNodesOptions): NodesSubsystem {
  const lxcPath = join(o.pool.mountPoint, 'lxc');
  const log = pino({ level: 'silent' });
  return new NodesSubsystem({
    config: {
      stateDir: o.stateDir,
      lxcPath,
      bridge: runName('nbr'),
      nodeSubnet: `${o.subnet}.0/24`,
      name: 'test',
      domain: 'mesh.internal',
      reconcileSeconds: o.reconcileSeconds,
      storageDriver: 'btrfs',
      storagePoolFile: o.pool.file,
      storagePoolSizeMb: o.poolMb,
    },
    driver: new LxcDriver({ lxcPath, templateCache: TEMPLATE_CACHE, run: netnsRunner(o.netns), hostRun: exec, log }),
    events: o.events,
    log,
  });
}
