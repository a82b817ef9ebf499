// scripts/fleet: a fleet of stations on balena.
//   fleet list FLEET [--json]                      stations with health, version, node counts (device tags)
//   fleet rollout FLEET COMMIT [--fraction 0.25] [--timeout 900] [--interval 15]
//                                                  pin COMMIT to a fraction of the online stations, watch their
//                                                  health, then pin the whole fleet; roll the canaries back if
//                                                  any turns unhealthy or the wait times out
//   fleet rollback FLEET                           unpin every station (back to the fleet's release)
//   fleet bundle DIR                               the sources + image/balena files laid out for `balena push`
// Needs BALENA_TOKEN (an API key); BALENA_API_URL defaults to https://api.balena-cloud.com/.
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BalenaSDK } from 'balena-sdk';
import { connect, fleetDevices, findRelease, releaseCommits } from './balena.ts';
import { formatTable, judgeWave, pickCanaries } from './rollout-plan.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

function usage(): never {
  process.stderr.write('usage: fleet list FLEET [--json] | rollout FLEET COMMIT [--fraction F] [--timeout S] [--interval S] | rollback FLEET | bundle DIR\n');
  process.exit(2);
}

async function session(): Promise<BalenaSDK> {
  const token = process.env.BALENA_TOKEN;
  if (!token) throw new Error('set BALENA_TOKEN to a balena API key (balenaCloud: Preferences > Access tokens)');
  return connect(process.env.BALENA_API_URL ?? 'https://api.balena-cloud.com/', token);
}

const log = (line: string) => process.stdout.write(`${line}\n`);

async function list(fleet: string, json: boolean): Promise<void> {
  const sdk = await session();
  const devices = await fleetDevices(sdk, fleet);
  if (json) {
    log(JSON.stringify(devices, null, 2));
    return;
  }
  const commits = await releaseCommits(sdk, fleet);
  log(formatTable(devices, (id) => (id === null ? '?' : (commits.get(id) ?? String(id)).slice(0, 7))));
}

async function rollout(fleet: string, commit: string, fraction: number, timeoutS: number, intervalS: number): Promise<number> {
  const sdk = await session();
  const release = await findRelease(sdk, fleet, commit);
  const canaries = pickCanaries(await fleetDevices(sdk, fleet), fraction);
  if (!canaries.length) throw new Error(`fleet ${fleet} has no online station to start with`);
  log(`wave 1: pinning ${release.commit.slice(0, 7)} to ${canaries.length} station(s): ${canaries.map((d) => d.name).join(', ')}`);
  for (const d of canaries) await sdk.models.device.pinToRelease(d.uuid, release.id);
  const ids = new Set(canaries.map((d) => d.id));
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const wave = (await fleetDevices(sdk, fleet)).filter((d) => ids.has(d.id));
    const verdict = judgeWave(wave, release.id);
    if (verdict.state === 'healthy') break;
    if (verdict.state === 'unhealthy' || Date.now() > deadline) {
      const why = verdict.state === 'unhealthy' ? `unhealthy: ${verdict.failed.join(', ')}` : `timed out waiting for ${verdict.pending.join(', ')}`;
      log(`wave 1 failed (${why}); rolling the canaries back to the fleet's release`);
      for (const d of canaries) await sdk.models.device.trackApplicationRelease(d.uuid);
      return 1;
    }
    log(`waiting for ${verdict.pending.join(', ')}`);
    await new Promise((r) => setTimeout(r, intervalS * 1000));
  }
  log(`wave 1 healthy; pinning the fleet ${fleet} to ${release.commit.slice(0, 7)}`);
  await sdk.models.application.pinToRelease(fleet, release.commit);
  for (const d of canaries) await sdk.models.device.trackApplicationRelease(d.uuid);
  log('rollout complete');
  return 0;
}

async function rollback(fleet: string): Promise<void> {
  const sdk = await session();
  const pinned = (await fleetDevices(sdk, fleet)).filter((d) => d.pinnedRelease !== null);
  for (const d of pinned) await sdk.models.device.trackApplicationRelease(d.uuid);
  log(`unpinned ${pinned.length} station(s): ${pinned.map((d) => d.name).join(', ') || '-'}`);
}

/** balena push takes a directory with docker-compose.yml at its root; the build context is that root. */
async function bundle(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const path of ['agent', 'api', 'hardware', 'scripts/cli', 'image/balena', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
    await cp(join(ROOT, path), join(dir, path), { recursive: true });
  }
  await cp(join(ROOT, 'image/balena/docker-compose.yml'), join(dir, 'docker-compose.yml'));
  await cp(join(ROOT, 'image/balena/balena.yml'), join(dir, 'balena.yml'));
  log(`bundle: ${dir} (deploy with: balena push <fleet> --source ${dir})`);
}

async function main(args: string[]): Promise<number> {
  const [cmd, a, b] = args;
  switch (cmd) {
    case 'list':
      if (!a) usage();
      await list(a, args.includes('--json'));
      return 0;
    case 'rollout':
      if (!a || !b) usage();
      return rollout(a, b, Number(option(args, 'fraction', '0.25')), Number(option(args, 'timeout', '900')), Number(option(args, 'interval', '15')));
    case 'rollback':
      if (!a) usage();
      await rollback(a);
      return 0;
    case 'bundle':
      if (!a) usage();
      await bundle(a);
      return 0;
    default:
      return usage();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`fleet: ${error.message}\n`);
    process.exit(1);
  },
);
