// Removing a network namespace made by a test, a benchmark or the testbed. Processes still inside
// would keep it alive, so they are ended first (only ours live in the namespaces we make).
import { exec } from '../../agent/exec.ts';

export async function removeNetns(name: string): Promise<void> {
  const pids = (await exec(['ip', 'netns', 'pids', name], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await exec(['ip', 'netns', 'del', name], { allowFailure: true });
}
