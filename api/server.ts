// Starts the API server for a system. Building the app (compiling every route's validators and
// serializers, ~0.5 s) is CPU work, while starting subsystems mostly waits on programs: the two
// overlap, and the socket opens only once the system has started.
import type { FastifyInstance } from 'fastify';
import type { StationSystem } from '../agent/system.ts';
import { buildApp } from './app.ts';

export async function startServer(system: StationSystem, systemStarted: Promise<void>): Promise<FastifyInstance> {
  const app = await buildApp({ system });
  await app.ready();
  await systemStarted;
  await app.listen({ host: system.config.httpHost, port: system.config.httpPort });
  return app;
}
