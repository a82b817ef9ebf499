// The agent process a benchmark measures: started inside the benchmark's network namespace (entered
// as the node engine enters it, with the cgroup mounts kept, so LXC works there), listening on that
// namespace's loopback, and awaited until /api/v1/ready answers 200.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';
import { netnsArgv } from '../../../agent/nodes/lxc/netns-runner.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** `env` adds to (or overrides) the benchmark defaults: name "bench", log level "warn". */
export async function startBenchAgent(ns: string, port: number, env: Record<string, string>): Promise<ChildProcess> {
  const argv = netnsArgv(ns, [process.execPath, join(ROOT, 'agent/main.ts')]);
  const agent = spawn(argv[0]!, argv.slice(1), {
    stdio: 'ignore',
    env: {
      ...process.env,
      STATION_HTTP_HOST: '127.0.0.1',
      STATION_HTTP_PORT: String(port),
      STATION_NAME: 'bench',
      STATION_LOG_LEVEL: 'warn',
      // plain directories unless a benchmark asks for the pool: a pool this agent mounted inside
      // its own mount namespace (ip netns exec) would outlive it as a loop device nobody sees
      STATION_STORAGE_DRIVER: 'dir',
      ...env,
    },
  });
  for (let i = 0; ; i++) {
    const ready = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/api/v1/ready`], {
      netns: ns,
      allowFailure: true,
    });
    if (ready.stdout === '200') return agent;
    if (i > 400 || agent.exitCode !== null) {
      agent.kill('SIGTERM');
      throw new Error(`the agent did not become ready (${agent.exitCode === null ? 'no answer in 20 s' : `it exited with ${agent.exitCode}`})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
