// station disk export|exports|unexport: a node's volume served over WebDAV or SMB on the LAN and/or
// the mesh, each export with its own user (agent/disk/exports). The password is printed once, at export.
import type { Command } from '../command.ts';
import { json, need, readCommand } from '../command.ts';
import { CliError } from '../client.ts';
import { table } from '../format.ts';
import type { ExportView } from '../../../agent/disk/exports/export-keeper.ts';

const EXPORT_USAGE = 'disk export NODE/VOLUME --webdav|--smb [--on lan|mesh|both] [--read-only] [--json]';

export const EXPORT_COMMANDS: Command[] = [
  {
    words: ['disk', 'export'],
    summary: "serve a node's volume over WebDAV or SMB with its own user (the password is shown once)",
    usage: EXPORT_USAGE,
    booleanFlags: ['webdav', 'smb', 'read-only'],
    async run(args, client) {
      const [node, volume, ...rest] = (args.positional[0] ?? '').split('/');
      if (!node || !volume || rest.length || args.positional.length !== 1) throw new CliError(`usage: station ${EXPORT_USAGE}`, 2);
      if (args.flags.webdav === args.flags.smb) throw new CliError(`give one of --webdav or --smb\nusage: station ${EXPORT_USAGE}`, 2);
      const on = args.flags.on ?? 'lan';
      if (typeof on !== 'string') throw new CliError(`--on takes lan, mesh or both\nusage: station ${EXPORT_USAGE}`, 2);
      const body = { node, volume, protocol: args.flags.smb ? 'smb' : 'webdav', on, readOnly: args.flags['read-only'] === true };
      const made = await client.post<ExportView & { password: string }>('/disk/exports', body);
      if (args.json) return json(made);
      return [
        `exported ${made.node}/${made.volume} over ${made.protocol} on ${made.on}${made.readOnly ? ', read-only' : ''} (export ${made.id})`,
        ...made.urls.map((u) => `  ${u}`),
        `user:     ${made.user}`,
        `password: ${made.password}`,
        'The password is shown this once; to change it, unexport and export again.',
      ].join('\n');
    },
  },
  readCommand<{ exports: ExportView[] }>(
    ['disk', 'exports'],
    'volumes exported over WebDAV and SMB: where, who, serving or why not',
    '/disk/exports',
    ({ exports }) =>
      exports.length
        ? table(
            ['ID', 'VOLUME', 'PROTOCOL', 'ON', 'ACCESS', 'USER', 'SERVING', 'WHERE / WHY'],
            exports.map((e) => [
              e.id,
              `${e.node}/${e.volume}`,
              e.protocol,
              e.on,
              e.readOnly ? 'read-only' : 'read-write',
              e.user,
              e.serving ? 'yes' : 'no',
              e.serving ? e.urls.join(' ') : (e.reason ?? ''),
            ]),
          )
        : 'no volume is exported',
  ),
  {
    words: ['disk', 'unexport'],
    summary: 'remove an export: its server stops and its password stops working',
    usage: 'disk unexport ID [--json]',
    async run(args, client) {
      const id = need(args.positional[0], this.usage!);
      const gone = await client.delete<ExportView>(`/disk/exports/${encodeURIComponent(id)}`);
      return args.json ? json(gone) : `removed export ${gone.id} (${gone.protocol} ${gone.node}/${gone.volume})`;
    },
  },
];
