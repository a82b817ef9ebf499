import { Type } from '@sinclair/typebox';

export const PairingStateSchema = Type.Object(
  {
    open: Type.Boolean({ description: 'a browser on the LAN may ask for the admin session right now' }),
    closesAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    remainingSeconds: Type.Integer({ minimum: 0 }),
    openedBy: Type.Union([Type.Literal('button'), Type.Literal('api'), Type.Null()]),
    activeSessions: Type.Integer({ minimum: 0 }),
  },
  { $id: 'PairingState' },
);

export const PairingSessionSchema = Type.Object(
  {
    id: Type.String({ description: 'how the owner names this session to revoke it' }),
    token: Type.String({ description: 'a bearer accepted for changes until expiresAt (kept in memory: an agent restart ends it)' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'PairingSession' },
);

export const SessionInfoSchema = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  client: Type.String({ description: 'the address that took the session' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  openedBy: Type.Union([Type.Literal('button'), Type.Literal('api')], { description: 'what opened the window it came from' }),
});

export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionInfoSchema) });

export const SessionIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^s_[0-9a-f]{12}$' }) }, { additionalProperties: false });

export const RevokedSchema = Type.Object({ revoked: Type.Integer({ minimum: 0 }) });

export const EmptyBodySchema = Type.Object({}, { additionalProperties: false });

export const SessionCheckSchema = Type.Object({ ok: Type.Literal(true) });
