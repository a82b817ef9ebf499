// GET /disk: Infinite Disk at a glance (agent/disk/overview.ts). Open like every read: it shows
// sizes and where copies are, never data or keys.
import type { RoutePlugin } from '../types.ts';
import { DiskReportSchema } from '../schemas/disk.ts';
import { MUTATION_ERRORS, responses } from '../schemas/common.ts';
import { Type } from '@sinclair/typebox';
import { UnavailableError } from '../../agent/errors.ts';

const PoolUsageSchema = Type.Object({ sizeBytes: Type.Integer(), usedBytes: Type.Integer(), freeBytes: Type.Integer() });
const GrowBody = Type.Object(
  { sizeMB: Type.Integer({ minimum: 128, maximum: 67_108_864, description: 'the new size of the pool file in MiB (it only grows)' }) },
  { additionalProperties: false },
);

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

  app.post(
    '/disk/pool/grow',
    {
      schema: {
        tags: ['disk'],
        summary: 'grow the loop-backed volume pool (file, loop device and file system); never shrinks',
        body: GrowBody,
        response: responses({ 200: PoolUsageSchema }, [...MUTATION_ERRORS, 503]),
      },
    },
    async (request) => {
      const pool = system.nodes.volumePool();
      if (!pool) throw new UnavailableError('NODES_UNAVAILABLE', 'node volumes are not available on this station');
      return pool.grow(request.body.sizeMB);
    },
  );
};
