import type { RoutePlugin } from '../types.ts';

export const metricsRoutes: RoutePlugin = async (app, { system }) => {
  app.get('/metrics', {
    schema: { tags: ['station'], summary: 'Prometheus metrics (text exposition format)' },
  }, async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(system.metrics.render()));
};
