// The agent process, and nothing else: load config, build the system, start it and the API,
// stop on SIGTERM/SIGINT within 10 s. This file is the process root, the one place allowed to wire
// the API (a higher layer) to the system; nothing imports it.
import { applyProcessSettings } from './process-settings.ts';
import type { Config } from './config/schema.ts';

const STOP_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  // Before anything is loaded: this may replace the process with a tuned one (agent/process-settings.ts).
  applyProcessSettings();
  const { loadConfig, ConfigError } = await import('./config/load.ts');
  const { createLogger } = await import('./log.ts');
  const { StationSystem } = await import('./system.ts');
  const { startServer } = await import('../api/server.ts');
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`station: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const system = new StationSystem({ config, log });
  let stopping = false;
  let server: Awaited<ReturnType<typeof startServer>> | undefined;

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // Nodes keep running across an agent stop: only the agent's own work ends here.
    const deadline = setTimeout(() => {
      log.error('stop took longer than 10 s; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    try {
      await server?.close();
      await system.stop();
    } finally {
      log.flush?.();
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const started = system.start();
  server = await startServer(system, started);
  log.info({ name: config.name, url: `http://${config.httpHost}:${config.httpPort}/`, stateDir: config.stateDir }, 'station ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`station: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
