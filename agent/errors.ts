// One error class per failure class. Each carries a stable machine-readable code; the HTTP
// status for each class is decided in one place (api/errors.ts), never at the throw site.
// Every constructor takes (code, message, facts?) in that order, as StationError does.

export type ErrorKind =
  | 'invalid' // the request or spec is wrong: nothing was changed
  | 'unauthorized' // no or wrong credentials
  | 'forbidden' // credentials fine, action not allowed
  | 'not-found'
  | 'conflict' // clashes with existing state (duplicate name, busy)
  | 'too-many' // rate limited
  | 'capacity' // does not fit the station (memory, disk, addresses)
  | 'unavailable' // an engine this feature needs is missing or not ready
  | 'engine' // an external program failed
  | 'internal';

export class StationError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  /**
   * Machine-readable facts for the error body's `details`. Not named `details` on the error itself:
   * uvu's reporter treats an error's `details` as a diff string and dies silently on an object,
   * which hid failing tests.
   */
  readonly facts: Record<string, unknown> | undefined;
  constructor(kind: ErrorKind, code: string, message: string, facts?: Record<string, unknown>) {
    super(message);
    this.name = 'StationError';
    this.kind = kind;
    this.code = code;
    this.facts = facts;
  }
}

/**
 * The class of one kind of failure: `new NotFoundError(code, message, facts?)`, told apart with
 * `instanceof` and by its `kind` (which api/errors.ts maps to the HTTP status).
 */
function errorOfKind(kind: ErrorKind, name: string) {
  return class extends StationError {
    constructor(code: string, message: string, facts?: Record<string, unknown>) {
      super(kind, code, message, facts);
      this.name = name;
    }
  };
}

export const ValidationError = errorOfKind('invalid', 'ValidationError');
export const ForbiddenError = errorOfKind('forbidden', 'ForbiddenError');
export const NotFoundError = errorOfKind('not-found', 'NotFoundError');
export const ConflictError = errorOfKind('conflict', 'ConflictError');
export const CapacityError = errorOfKind('capacity', 'CapacityError');
export const UnavailableError = errorOfKind('unavailable', 'UnavailableError');

export type ValidationError = InstanceType<typeof ValidationError>;
export type ForbiddenError = InstanceType<typeof ForbiddenError>;
export type NotFoundError = InstanceType<typeof NotFoundError>;
export type ConflictError = InstanceType<typeof ConflictError>;
export type CapacityError = InstanceType<typeof CapacityError>;
export type UnavailableError = InstanceType<typeof UnavailableError>;

export class UnauthorizedError extends StationError {
  constructor(message = 'a valid admin token is required for this action') {
    super('unauthorized', 'UNAUTHORIZED', message);
    this.name = 'UnauthorizedError';
  }
}

export class TooManyRequestsError extends StationError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('too-many', 'TOO_MANY_REQUESTS', message, { retryAfterSeconds });
    this.name = 'TooManyRequestsError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** An external program failed. Carries argv, exit code and stderr for logs; never sent to clients whole. */
export class ExecError extends StationError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly stdout: string;
  readonly timedOut: boolean;
  constructor(argv: readonly string[], exitCode: number | null, stdout: string, stderr: string, timedOut: boolean, cause?: string) {
    const what = timedOut ? 'timed out' : cause ? `could not start (${cause})` : `exited with ${exitCode}`;
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    super('engine', 'ENGINE_COMMAND_FAILED', `${argv[0]} ${what}${tail ? `: ${tail}` : ''}`);
    this.name = 'ExecError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
    this.timedOut = timedOut;
  }
}

export const isStationError = (e: unknown): e is StationError => e instanceof StationError;
