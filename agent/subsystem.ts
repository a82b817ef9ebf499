// Every subsystem (hardware, nodes, mesh, network, ...) has the same small life: constructed
// without side effects, started, asked for its health, stopped.
export type HealthState = 'ok' | 'starting' | 'degraded' | 'off';

export interface SubsystemHealth {
  state: HealthState;
  /** why it is not ok, for people */
  reason?: string;
}

export interface Subsystem {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): SubsystemHealth;
  /** a small summary for GET /status (e.g. node counts); must be cheap, it is read on every request */
  summary?(): Record<string, unknown>;
}
