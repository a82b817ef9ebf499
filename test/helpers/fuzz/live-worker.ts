// The "live" fuzz station: runs (only) inside a network namespace made by live.ts, as
// `ip netns exec NS node live-worker.ts OPTIONS`, with every subsystem on but Wi-Fi
// (NetworkManager is the machine's, over D-Bus), mDNS and the fleet. So the node, network and mesh
// routes do their real validation and work: the bridge, the nftables table, dnsmasq and Nebula's
// tun device all live in that namespace, never in the machine's own.
// Nodes are never created: the LXC path is a 256 KiB tmpfs, mounted in this process's private
// mount namespace (ip netns exec makes one; the mount disappears with the process), so every
// valid create is refused by the station's own capacity check (409 INSUFFICIENT_DISK) after the
// spec, the policy and the name have all been checked. A real container per drawn request would
// take seconds each and fill the machine.
// Prints one line `FUZZ-RESULT {json}` on stdout.
import { readFileSync, readlinkSync } from 'node:fs';
import { loadConfig } from '../../../agent/config/load.ts';
import { createLogger } from '../../../agent/log.ts';
import { StationSystem } from '../../../agent/system.ts';
import { exec } from '../../../agent/exec.ts';
import { buildApp } from '../../../api/app.ts';
import { HTTP_LIMITS } from '../../../api/http-limits.ts';
import { allOperations, byGroup } from './operations.ts';
import { fuzzGroup, type GroupResult, type FuzzTarget } from './fuzzer.ts';
import { ownHosts, keyFileSecrets, ROOT_PATH } from './stations.ts';
import { KNOWN_FAILURES, reproduces } from './known-failures.ts';

export interface LiveOptions {
  stateDir: string;
  lxcDir: string;
  gpioDir: string;
  prefix: string;
  /** the launcher's mount namespace: the worker must be in another one before it mounts anything */
  launcherMountNs: string;
  requestsPerGroup: number;
  seed: number;
  groups?: string[];
}

export const LIVE_NODE_SUBNET = '198.18.77.0/24';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as LiveOptions;
  const named = (await exec(['ip', 'netns', 'identify', String(process.pid)], { allowFailure: true })).stdout.trim();
  if (!named) throw new Error('live-worker runs only inside a test network namespace (ip netns exec NS ...)');
  if (readlinkSync('/proc/self/ns/mnt') === options.launcherMountNs) throw new Error('live-worker needs a private mount namespace (ip netns exec gives one)');
  await exec(['mount', '-t', 'tmpfs', '-o', 'size=256k,mode=0755', `${options.prefix}-fuzz-lxc`, options.lxcDir]);

  const config = loadConfig({
    STATION_STATE_DIR: options.stateDir,
    STATION_NAME: 'test',
    STATION_LXC_PATH: options.lxcDir,
    STATION_BRIDGE: `${options.prefix}br`,
    STATION_NODE_SUBNET: LIVE_NODE_SUBNET,
    STATION_MESH_NODE_POOL: '198.19.224.0/19',
    STATION_RECONCILE_SECONDS: '3600',
    STATION_STORAGE_DRIVER: 'dir', // plain directories: nothing mounted for the fuzzer
    STATION_DISABLE: 'wifi,discovery,fleet',
    STATION_MDNS: 'off',
    STATION_GPIO_SYSFS_ROOT: options.gpioDir,
  });
  const system = new StationSystem({ config, log: createLogger('silent', false), env: {} });
  await system.start();
  const app = await buildApp({ system });
  await app.ready();
  const token = readFileSync(`${options.stateDir}/admin-token`, 'utf8').trim();
  const subsystems = system.status.status().subsystems.map((s) => `${s.name}:${s.state}${s.reason ? ` (${s.reason})` : ''}`);
  process.stderr.write(`live station: ${subsystems.join(', ')}\n`);
  const { doc, operations } = await allOperations(app);
  const target: FuzzTarget = {
    app,
    system,
    token,
    stateDir: options.stateDir,
    rootPath: ROOT_PATH,
    secrets: keyFileSecrets(options.stateDir),
    disabled: config.disable
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
    facts: { ownHosts: ownHosts(['198.18.77.1']), bodyLimitBytes: HTTP_LIMITS.bodyLimitBytes, components: doc.components?.schemas },
  };
  // Known failures seen only here: do they still happen? (read-only requests)
  const reproduced: Record<string, boolean> = {};
  for (const known of KNOWN_FAILURES.filter((k) => k.repro.station === 'live')) reproduced[known.id] = await reproduces(known, target);
  const results: GroupResult[] = [];
  for (const [group, ops] of byGroup(operations)) {
    if (options.groups && !options.groups.includes(group)) continue;
    results.push(
      await fuzzGroup(target, group, ops, {
        requests: options.requestsPerGroup,
        seed: options.seed,
        log: (line) => process.stderr.write(`${line}\n`),
      }),
    );
  }
  await app.close();
  await system.stop();
  process.stdout.write(`FUZZ-RESULT ${JSON.stringify({ subsystems, reproduced, results })}\n`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`live-worker: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
