import type { FastifyInstance, FastifyBaseLogger, RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StationSystem } from '../agent/system.ts';
import type { HttpLimits } from './http-limits.ts';

/** The Fastify instance every route plugin receives, typed by the TypeBox schemas. */
export type StationApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface RouteOptions {
  system: StationSystem;
  limits?: HttpLimits;
}

export type RoutePlugin = (app: StationApp, options: RouteOptions) => Promise<void>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a mutation that authenticates itself (e.g. joining with an invite code) */
    publicMutation?: boolean;
    /** a read that needs the admin token (it shows what only an admin may see, e.g. node logs) */
    tokenRequired?: boolean;
  }
}
