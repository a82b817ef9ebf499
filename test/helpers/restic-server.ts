// A peer's store as the copies' tests need it: `rclone serve restic --append-only --private-repos`
// with an htpasswd file, at an address in the test's network namespace. The real PeerStore runs the
// same through agent/disk/store/rclone-process.ts; these tests want the server without the agent.
import { spawn } from 'node:child_process';
import { onCleanup } from './cleanup.ts';
import { waitFor } from './wait.ts';

/**
 * Starts the server on `address` (ADDR:PORT) serving `store` to the users in `htpasswd`, and waits
 * until it serves. Returns its stop (SIGKILL, as a peer that is gone), also run at cleanup.
 */
export async function serveRestic(ns: string, address: string, files: { htpasswd: string; store: string }): Promise<() => Promise<void>> {
  const argv = ['netns', 'exec', ns, 'rclone', '--config', '/dev/null', 'serve', 'restic', '--addr', address, '--append-only', '--private-repos'];
  const child = spawn('ip', [...argv, '--htpasswd', files.htpasswd, files.store], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  };
  onCleanup(`rclone serve restic at ${address}`, stop);
  await waitFor(`rclone serve restic at ${address}`, async () => log.includes('Serving restic REST API'), 20_000);
  return stop;
}
