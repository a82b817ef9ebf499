import type { RoutePlugin } from '../types.ts';
import { StatusSchema } from '../schemas/status.ts';
import { HardwareSchema } from '../schemas/hardware.ts';
import { responses } from '../schemas/common.ts';
import { UnavailableError } from '../../agent/errors.ts';

export const statusRoutes: RoutePlugin = async (app, { system }) => {
  app.get('/status', {
    schema: { tags: ['station'], summary: 'name, health, subsystems and summaries', response: responses({ 200: StatusSchema }) },
  }, async (_request, reply) => reply.type('application/json; charset=utf-8').serializer((payload: unknown) => payload as string).send(system.status.statusJson()));

  app.get('/hardware', {
    schema: { tags: ['station'], summary: 'the hardware report and capability probes', response: responses({ 200: HardwareSchema }, [503]) },
  }, async () => {
    const report = system.hardware.report() ?? (await system.hardware.refresh());
    if (!report) throw new UnavailableError('HARDWARE_NOT_DETECTED', 'hardware detection has not finished; try again shortly');
    return report;
  });
};
