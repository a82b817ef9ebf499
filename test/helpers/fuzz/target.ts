// What the fuzzer sends its requests into: one station's app and what is known of it.
import type { FastifyInstance } from 'fastify';
import type { StationSystem } from '../../../agent/system.ts';
import type { StationFacts } from './requests.ts';

export interface FuzzTarget {
  app: FastifyInstance;
  system: StationSystem;
  token: string;
  stateDir: string;
  facts: StationFacts;
  /** secrets besides the admin token that a caller without it must never see */
  secrets: () => string[];
  rootPath: string;
  /** subsystems this station runs without (known failures may depend on it) */
  disabled: string[];
}
