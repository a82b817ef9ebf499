// scripts/testbed: up --stations N [--double-nat K] [--public P] [--mesh OWNER] [--prefix P] [--storage dir|btrfs] [--pool-mb MB]
//                  | status | down | exec NAME -- CMD...
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_PREFIX, down, formMesh, loadTestbed, status, up } from './index.ts';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const USAGE = `usage: scripts/testbed up --stations N [--double-nat K] [--public P] [--mesh OWNER] [--prefix PREFIX] [--storage dir|btrfs] [--pool-mb MB]
       scripts/testbed status [--prefix PREFIX]
       scripts/testbed exec NAME [--prefix PREFIX] -- COMMAND...   (e.g. station mesh peers)
       scripts/testbed down [--prefix PREFIX]`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const dash = rest.indexOf('--');
  const args = dash >= 0 ? rest.slice(0, dash) : rest;
  const prefix = flag(args, 'prefix') ?? DEFAULT_PREFIX;
  switch (cmd) {
    case 'up': {
      const storage = flag(args, 'storage') ?? 'dir';
      if (storage !== 'dir' && storage !== 'btrfs') {
        process.stderr.write(`testbed: --storage must be dir or btrfs, not ${storage}\n${USAGE}\n`);
        return 2;
      }
      const tb = await up({
        prefix,
        stations: Number(flag(args, 'stations') ?? 3),
        doubleNat: Number(flag(args, 'double-nat') ?? 0),
        publicStations: Number(flag(args, 'public') ?? 1),
        storage,
        ...(flag(args, 'pool-mb') ? { poolMb: Number(flag(args, 'pool-mb')) } : {}),
      });
      const owner = flag(args, 'mesh');
      if (owner) await formMesh(tb, owner);
      process.stdout.write(`${JSON.stringify(await status(prefix), null, 2)}\n`);
      return 0;
    }
    case 'status':
      process.stdout.write(`${JSON.stringify(await status(prefix), null, 2)}\n`);
      return 0;
    case 'down':
      process.stdout.write(`${JSON.stringify(await down(prefix))}\n`);
      return 0;
    case 'exec': {
      const tb = loadTestbed(prefix);
      const st = tb?.stations.find((s) => s.name === args[0]);
      if (!st || dash < 0) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      const command = rest.slice(dash + 1);
      const root = new URL('../../', import.meta.url).pathname;
      // The sources, not dist/: the testbed runs the agent from its sources too.
      if (command[0] === 'station') command.splice(0, 1, process.execPath, join(root, 'scripts/cli/main.ts'));
      const r = spawnSync('ip', ['netns', 'exec', st.netns, ...command], {
        stdio: 'inherit',
        env: { ...process.env, STATION_STATE_DIR: st.stateDir, STATION_URL: st.api },
      });
      return r.status ?? 1;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`testbed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
