// An in-process station for API tests: the real StationSystem and Fastify app on a temp state dir.
// Only the subsystems named in `enable` start (default: hardware, which only reads the host), so
// these tests never make bridges, containers or tunnels in the machine's own namespace.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../agent/config/load.ts';
import { createLogger } from '../../agent/log.ts';
import { StationSystem } from '../../agent/system.ts';
import { buildApp } from '../../api/app.ts';
import { RUN_PREFIX } from './run-prefix.ts';
import { readAdminToken } from '../../agent/auth/admin-token.ts';
import { stationPool } from './loop-pool.ts';

export interface TestStation {
  system: StationSystem;
  app: FastifyInstance;
  token: string;
  stateDir: string;
  close(): Promise<void>;
}

export interface TestStationOptions {
  enable?: string[];
  env?: Record<string, string>;
  /** where node volumes live: 'dir' (default, nothing mounted) or 'btrfs' (a loop-backed pool, unmounted by close()) */
  storage?: 'dir' | 'btrfs';
  poolMb?: number;
}

export async function createTestStation(options: TestStationOptions = {}): Promise<TestStation> {
  const stateDir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-sys-`));
  const pool = options.storage === 'btrfs' ? await stationPool(stateDir, options.poolMb) : null;
  const storage = pool?.env ?? { STATION_STORAGE_DRIVER: 'dir' };
  const probe = new StationSystem({
    config: loadConfig({ STATION_STATE_DIR: stateDir, STATION_NAME: 'test' }),
    log: createLogger('silent', false),
  });
  const enable = options.enable ?? ['hardware'];
  const disable = probe.subsystems
    .map((s) => s.name)
    .filter((n) => !enable.includes(n))
    .join(',');
  const config = loadConfig({ STATION_STATE_DIR: stateDir, STATION_NAME: 'test', STATION_DISABLE: disable, ...storage, ...options.env });
  const system = new StationSystem({ config, log: createLogger('silent', false) });
  await system.start();
  const app = await buildApp({ system });
  await app.ready();
  return {
    system,
    app,
    token: await readAdminToken(stateDir),
    stateDir,
    async close() {
      await app.close();
      await system.stop();
      await pool?.pool.unmount();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
