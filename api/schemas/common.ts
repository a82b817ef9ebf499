// Schemas shared by many routes.
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable machine-readable code, e.g. NODE_NOT_FOUND' }),
      message: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
  { $id: 'Error', description: 'every failure has this shape' },
);

export const ErrorRef = Type.Ref('Error');

/** The error responses every route may give, plus its own successes. */
export function responses<T extends Record<number, TSchema>>(ok: T, errors: number[] = []): T & Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of [400, 500, ...errors]) out[status] = ErrorRef;
  return out as T & Record<number, TSchema>;
}

/** Mutations also document 401 and 429. */
export const MUTATION_ERRORS = [401, 429];

export const FreeObject = Type.Object({}, { additionalProperties: true });
