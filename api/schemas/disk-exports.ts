// The schemas of the export routes (api/routes/disk-exports.ts): no password anywhere but in the
// answer to the POST that made the export.
import { Type } from '@sinclair/typebox';

const Name = Type.String({ minLength: 1, maxLength: 63 });
const Protocol = Type.Union([Type.Literal('webdav'), Type.Literal('smb')]);
const On = Type.Union([Type.Literal('lan'), Type.Literal('mesh'), Type.Literal('both')], {
  description: "where it listens: the station's LAN address(es), its mesh address, or both",
});

export const ExportIdParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'the export id (8 hex digits)' }) }, { additionalProperties: false });

export const ExportBody = Type.Object(
  {
    node: Name,
    volume: Name,
    protocol: Protocol,
    on: Type.Optional(On),
    readOnly: Type.Optional(Type.Boolean({ description: 'refuse every write (default false)' })),
  },
  { additionalProperties: false },
);

const ExportFields = {
  id: Type.String(),
  node: Type.String(),
  volume: Type.String(),
  protocol: Protocol,
  on: On,
  readOnly: Type.Boolean(),
  user: Type.String({ description: "the export's own user name" }),
  port: Type.Integer({ description: 'WebDAV: its own port; SMB: 445' }),
  uid: Type.Optional(Type.Integer({ description: "SMB: its user's uid inside smbd's own passwd file" })),
  createdAt: Type.String(),
  serving: Type.Boolean({ description: 'every server of the export listens' }),
  urls: Type.Array(Type.String(), { description: 'http://ADDR:PORT/ or \\\\ADDR\\SHARE' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why it does not serve' }),
};

export const ExportSchema = Type.Object(ExportFields);
export const CreatedExportSchema = Type.Object({
  ...ExportFields,
  password: Type.String({ description: 'shown this once: only a hash of it is kept' }),
});
