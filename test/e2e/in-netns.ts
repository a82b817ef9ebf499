// Runs a test file inside a test network namespace it creates, with the mounts LXC needs (the
// node engine's netnsArgv: `ip netns exec` would hide the cgroup hierarchies). Inside, the agent
// (startAgent), its nodes and Chromium share that namespace: nothing touches the machine's own
// network. The outer process only creates the namespace, waits, and removes it.
import { spawn } from 'node:child_process';
import { netnsArgv } from '../../agent/nodes/lxc/netns-runner.ts';
import { createNetns } from '../helpers/netns.ts';
import { cleanupAll } from '../helpers/cleanup.ts';

const INNER = 'STATION_E2E_INNER_NETNS';

/** True inside the namespace (run the tests); otherwise re-runs `file` inside one and exits with its code. */
export async function insideTestNetns(file: string, suffix: string): Promise<boolean> {
  if (process.env[INNER]) return true;
  const ns = await createNetns(suffix);
  const argv = netnsArgv(ns.name, [process.execPath, file]);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: { ...process.env, [INNER]: ns.name } });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await cleanupAll();
  process.exit(code);
}
