// The CLI's connection to the local agent: URL from --url / STATION_URL / the station's config,
// token from --token / STATION_TOKEN / <stateDir>/admin-token. Errors come back in the contract's shape.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * An error the agent answered with: its stable code, and the facts of the body's `details` (named
 * facts, not details: uvu's reporter takes an error's `details` for a diff string, see agent/errors.ts),
 * so a command can say more than the message where a code calls for it.
 */
export class AgentError extends CliError {
  readonly code: string;
  readonly facts: Record<string, unknown>;
  constructor(code: string, message: string, facts: Record<string, unknown> = {}) {
    super(`${message} (${code})`);
    this.code = code;
    this.facts = facts;
  }
}

type ErrorBody = { error?: { code: string; message: string; details?: Record<string, unknown> } };

export interface ClientOptions {
  url?: string;
  token?: string;
}

export class AgentClient {
  readonly baseUrl: string;
  private readonly explicitToken: string | undefined;

  constructor(options: ClientOptions = {}) {
    const port = process.env.STATION_HTTP_PORT ?? '8088';
    this.baseUrl = (options.url ?? process.env.STATION_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
    this.explicitToken = options.token ?? process.env.STATION_TOKEN;
  }

  token(): string {
    if (this.explicitToken) return this.explicitToken;
    const file = join(process.env.STATION_STATE_DIR ?? '/var/lib/station', 'admin-token');
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new CliError(`cannot read the admin token from ${file} (${(error as NodeJS.ErrnoException).code}); run as root on the station, or pass --token`);
    }
  }

  /** The token when one is at hand (given, or readable: root on the station), else nothing. */
  private tokenIfAny(): string | undefined {
    try {
      return this.token();
    } catch {
      return undefined;
    }
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, options: { auth?: boolean; timeoutMs?: number } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const mutation = method !== 'GET' && method !== 'HEAD';
    // Changes always need the token; reads send it when there is one, so the owner sees what only
    // token holders see (node env values, logs) and anyone else still gets the open reads.
    const token = (options.auth ?? mutation) ? this.token() : this.tokenIfAny();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the station agent at ${this.baseUrl} ` +
          `(${(error as Error).cause ? String((error as Error & { cause: Error }).cause.message) : (error as Error).message}); is it running?`,
      );
    }
    const text = await response.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON (metrics) */
    }
    if (!response.ok) {
      const err = (data as ErrorBody | undefined)?.error;
      throw err ? new AgentError(err.code, err.message, err.details) : new CliError(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return data as T;
  }

  /**
   * Writes a file the agent streams (a node's data, not JSON: always with the token) to `out`.
   * Returns false when the agent answers 404 with the error code `absentCode`: the file is not
   * there and the caller may look elsewhere. Any other error throws, as request() does.
   */
  async download(path: string, out: NodeJS.WritableStream, options: { timeoutMs: number; absentCode?: string }): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      headers: { authorization: `Bearer ${this.token()}` },
      signal: AbortSignal.timeout(options.timeoutMs),
    }).catch((error: Error) => {
      throw new CliError(`cannot reach the station agent at ${this.baseUrl} (${error.message}); is it running?`);
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as ErrorBody | null;
      if (response.status === 404 && options.absentCode !== undefined && body?.error?.code === options.absentCode) return false;
      throw body?.error ? new AgentError(body.error.code, body.error.message, body.error.details) : new CliError(`HTTP ${response.status}`);
    }
    for await (const chunk of response.body!) out.write(chunk as Uint8Array);
    return true;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T = unknown>(path: string, body?: unknown, options?: { timeoutMs?: number }): Promise<T> {
    return this.request<T>('POST', path, body ?? {}, options);
  }
  patch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}
