// The stations the fuzzer runs against, and what it needs to know of each.
//   default: in this process, only subsystems that touch neither the machine's network nor its
//            hardware: hardware detection (reads only) and the indicator with a GPIO root that has
//            no chips (so the pairing routes work). Nodes, mesh, Wi-Fi answer 503 "off".
//   live:    (live-worker.ts) everything but Wi-Fi, mDNS and the fleet, inside a network namespace.
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStation, type TestStation } from '../system.ts';
import { RUN_PREFIX } from '../run-prefix.ts';
import { onCleanup } from '../cleanup.ts';
import { HTTP_LIMITS } from '../../../api/http-limits.ts';
import type { FuzzTarget } from './fuzzer.ts';
import type { OpenApiDoc } from './operations.ts';

export const ROOT_PATH = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');

/** Names the station answers to with STATION_NAME=test (and what inject sends when no Host is given). */
export function ownHosts(extraAddresses: string[] = []): string[] {
  return [
    'localhost',
    'localhost:80',
    'test',
    'test.local',
    'test.mesh.internal',
    'TEST.LOCAL.',
    '127.0.0.1',
    '127.0.0.1:8088',
    '[::1]',
    '[::1]:8088',
    hostname(),
    ...extraAddresses,
  ];
}

/** First base64 line of every private key under the state directory: a caller without the token must never see one. */
export function keyFileSecrets(stateDir: string): () => string[] {
  let cached = { at: 0, values: [] as string[] };
  const walk = (dir: string): string[] => {
    const out: string[] = [];
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return out;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) out.push(...walk(path));
      else if (entry.isFile() && entry.name.endsWith('.key')) {
        let text = '';
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          /* gone meanwhile */
        }
        const line = text.split('\n').find((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l));
        if (line) out.push(line);
      }
    }
    return out;
  };
  // Read again at most once a second: keys appear when a mesh is made or joined.
  return () => {
    if (Date.now() - cached.at > 1000) cached = { at: Date.now(), values: walk(stateDir) };
    return cached.values;
  };
}

export interface DefaultStation {
  station: TestStation;
  target: FuzzTarget;
  close(): Promise<void>;
}

export async function defaultStation(): Promise<DefaultStation> {
  const gpio = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-fuzz-gpio-`)); // no chips: no LED, no button
  onCleanup(`fuzz gpio dir ${gpio}`, () => rm(gpio, { recursive: true, force: true }));
  const station = await createTestStation({ enable: ['hardware', 'indicator'], env: { STATION_GPIO_SYSFS_ROOT: gpio } });
  const doc = (await station.app.inject({ url: '/api/openapi.json' })).json() as OpenApiDoc;
  const target: FuzzTarget = {
    app: station.app,
    system: station.system,
    token: station.token,
    stateDir: station.stateDir,
    rootPath: ROOT_PATH,
    facts: { ownHosts: ownHosts(), bodyLimitBytes: HTTP_LIMITS.bodyLimitBytes, components: doc.components?.schemas },
    secrets: keyFileSecrets(station.stateDir),
    disabled: station.system.config.disable
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  };
  return {
    station,
    target,
    async close() {
      await station.close();
      await rm(gpio, { recursive: true, force: true });
    },
  };
}
