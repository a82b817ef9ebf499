import type { RoutePlugin } from '../types.ts';
import { StatusSchema } from '../schemas/status.ts';
import { HardwareSchema } from '../schemas/hardware.ts';
import { responses } from '../schemas/common.ts';
import { UnavailableError } from '../../agent/errors.ts';

const HARDWARE_RETRY_SECONDS = 5;

export const statusRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/status',
    {
      schema: { tags: ['station'], summary: 'name, health, subsystems and summaries', response: responses({ 200: StatusSchema }) },
    },
    async (_request, reply) =>
      reply
        .type('application/json; charset=utf-8')
        .serializer((payload: unknown) => payload as string)
        .send(system.status.statusJson()),
  );

  app.get(
    '/hardware',
    {
      schema: {
        tags: ['station'],
        summary: 'the hardware report and capability probes',
        response: responses({ 200: HardwareSchema }, [503]),
      },
    },
    async (_request, reply) => {
      // Answers at once: the last report, or 503 while the first detection runs (it can take a
      // minute on a slow box; a request must not wait for it).
      const report = system.hardware.report();
      if (report) return report;
      reply.header('retry-after', String(HARDWARE_RETRY_SECONDS));
      throw new UnavailableError('HARDWARE_NOT_DETECTED', `${system.hardware.pendingReason()}; try again in ${HARDWARE_RETRY_SECONDS} s`);
    },
  );
};
