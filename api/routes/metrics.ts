import type { RoutePlugin } from '../types.ts';

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Registered under /api/v1 (documented) and at the root: `/metrics` is Prometheus's default path. */
export const metricsRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/metrics',
    {
      schema: { tags: ['station'], summary: 'Prometheus metrics (text exposition format); also served at /metrics' },
    },
    async (_request, reply) => reply.type(PROMETHEUS_TEXT).send(system.metrics.render()),
  );
};

export const rootMetricsRoute: RoutePlugin = async (app, { system }) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(PROMETHEUS_TEXT).send(system.metrics.render()));
};
