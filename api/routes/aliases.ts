// GET /aliases: Dynamic Alias names -> addresses -> stations. Open like every read; other
// stations pull `?scope=local` from it to learn where this station's nodes are.
import type { RoutePlugin } from '../types.ts';
import { AliasListSchema, AliasQuerySchema } from '../schemas/network.ts';
import { responses } from '../schemas/common.ts';

export const aliasRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/aliases',
    {
      schema: {
        tags: ['network'],
        summary: 'names this station answers, where they point and which station runs them',
        querystring: AliasQuerySchema,
        response: responses({ 200: AliasListSchema }),
      },
    },
    async (request) => system.network.aliasListing(request.query.scope ?? 'all'),
  );
};
