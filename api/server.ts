// Starts the API server for a running system.
import type { FastifyInstance } from 'fastify';
import type { StationSystem } from '../agent/system.ts';
import { buildApp } from './app.ts';

export async function startServer(system: StationSystem): Promise<FastifyInstance> {
  const app = await buildApp({ system });
  await app.listen({ host: system.config.httpHost, port: system.config.httpPort });
  return app;
}
