import type { RoutePlugin } from '../types.ts';
import { HealthSchema, ReadySchema } from '../schemas/status.ts';
import { responses } from '../schemas/common.ts';

export const healthRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/health',
    {
      schema: { tags: ['station'], summary: 'the agent process is alive', response: responses({ 200: HealthSchema }) },
    },
    async () => ({ status: 'alive' as const, uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['station'],
        summary: 'every subsystem has started (503 until then)',
        response: responses({ 200: ReadySchema, 503: ReadySchema }),
      },
    },
    async (_request, reply) => {
      const { ready, subsystems } = system.status.status();
      return reply.status(ready ? 200 : 503).send({ ready, subsystems });
    },
  );
};
