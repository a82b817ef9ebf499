import { Type } from '@sinclair/typebox';

export const PairingStateSchema = Type.Object({
  open: Type.Boolean({ description: 'a browser may ask for an admin session right now' }),
  closesAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  remainingSeconds: Type.Integer({ minimum: 0 }),
  openedBy: Type.Union([Type.Literal('button'), Type.Literal('api'), Type.Null()]),
  activeSessions: Type.Integer({ minimum: 0 }),
}, { $id: 'PairingState' });

export const PairingSessionSchema = Type.Object({
  token: Type.String({ description: 'a bearer accepted for changes until expiresAt (kept in memory: an agent restart ends it)' }),
  expiresAt: Type.String({ format: 'date-time' }),
}, { $id: 'PairingSession' });

export const EmptyBodySchema = Type.Object({}, { additionalProperties: false });

export const SessionCheckSchema = Type.Object({ ok: Type.Literal(true) });
