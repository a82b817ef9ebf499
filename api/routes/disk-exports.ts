// Volumes exported over WebDAV and SMB (agent/disk/exports/export-keeper.ts): thin routes.
//   GET    /disk/exports       every export, where it is reached, whether it serves (open, like other reads: no passwords)
//   POST   /disk/exports       make one (admin): 201 with its password, the only time it is shown
//   DELETE /disk/exports/:id   remove one (admin): its server stops, its password stops working
import { Type } from '@sinclair/typebox';
import { MUTATION_ERRORS, responses } from '../schemas/common.ts';
import { CreatedExportSchema, ExportBody, ExportIdParams, ExportSchema } from '../schemas/disk-exports.ts';
import type { RoutePlugin } from '../types.ts';

const tags = ['disk'];

export const diskExportRoutes: RoutePlugin = async (app, { system }) => {
  const keeper = () => system.disk.exports;

  app.get(
    '/disk/exports',
    {
      schema: {
        tags,
        summary: 'volumes exported over WebDAV and SMB (never a password)',
        response: responses({ 200: Type.Object({ exports: Type.Array(ExportSchema) }) }),
      },
    },
    async () => ({ exports: keeper().list() }),
  );

  app.post(
    '/disk/exports',
    {
      schema: {
        tags,
        summary: "export a node's volume over WebDAV or SMB on the LAN and/or the mesh, with its own user; the password is in this answer only",
        body: ExportBody,
        response: responses({ 201: CreatedExportSchema }, [...MUTATION_ERRORS, 404, 409, 503]),
      },
    },
    async (request, reply) => reply.status(201).send(await keeper().create(request.body)),
  );

  app.delete(
    '/disk/exports/:id',
    {
      schema: {
        tags,
        summary: "remove an export: its server stops and its user's password stops working",
        params: ExportIdParams,
        response: responses({ 200: ExportSchema }, [...MUTATION_ERRORS, 404]),
      },
    },
    async (request) => keeper().remove(request.params.id),
  );
};
