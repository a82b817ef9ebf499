// Runs inside the benchmark's namespace: starts the agent the way the station does and measures the
// time from process start (the agent applies its own Node flags, as under every launcher) to /api/v1/ready, and to the first /status that carries the hardware.
import { spawn } from 'node:child_process';

const [entry, port, stateDir] = process.argv.slice(2);
const started = performance.now();
const child = spawn(process.execPath, [entry], {
  env: { ...process.env, STATION_STATE_DIR: stateDir, STATION_HTTP_HOST: '127.0.0.1', STATION_HTTP_PORT: port, STATION_LOG_LEVEL: 'warn' },
  stdio: 'ignore',
});
const url = `http://127.0.0.1:${port}/api/v1`;
let readyMs = null;
let statusWithHardwareMs = null;
while (statusWithHardwareMs === null && performance.now() - started < 20_000) {
  try {
    if (readyMs === null && (await fetch(`${url}/ready`)).status === 200) readyMs = performance.now() - started;
    if (readyMs !== null && (await (await fetch(`${url}/status`)).json()).hardware) statusWithHardwareMs = performance.now() - started;
  } catch { /* not listening yet */ }
  await new Promise((r) => setTimeout(r, 5));
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
process.stdout.write(`${JSON.stringify({ readyMs, statusWithHardwareMs })}\n`);
