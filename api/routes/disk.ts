// GET /disk: Infinite Disk at a glance (agent/disk/overview.ts). Open like every read: it shows
// sizes and where copies are, never data or keys.
import type { RoutePlugin } from '../types.ts';
import { DiskReportSchema } from '../schemas/disk.ts';
import { responses } from '../schemas/common.ts';

export const diskRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/disk',
    {
      schema: {
        tags: ['disk'],
        summary: "the volume pool, this station's store for peers, and per node its volumes, snapshots and copies",
        response: responses({ 200: DiskReportSchema }),
      },
    },
    async () => system.disk.report(),
  );
};
