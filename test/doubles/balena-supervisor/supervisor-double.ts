// DOUBLE of the balena supervisor's local API (see README.md here for the documented source of
// every shape). Test-only; listens on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { open, unlink, access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReleaseHooks {
  /** starts the new release's service (the new agent); resolves when its process runs */
  startNew(): Promise<void>;
  /** stops the old release's service (SIGTERM, then kill), resolves when it has exited */
  stopOld(): Promise<void>;
}

export interface SupervisorDoubleOptions {
  apiKey: string;
  /** the service's /tmp/balena (shared by old and new service containers) */
  lockDir: string;
  appId: number;
  serviceName: string;
  commit: string;
  handoverTimeoutMs: number;
  hooks: ReleaseHooks;
}

export type UpdateEvent = {
  at: number;
  what:
    | 'requested'
    | 'deferred-locked'
    | 'new-started'
    | 'handover-signalled'
    | 'handover-timeout'
    | 'old-stopped'
    | 'applied'
    | 'restart-refused-locked'
    | 'restart-accepted'
    | 'failed';
};

export class SupervisorDouble {
  readonly options: SupervisorDoubleOptions;
  readonly events: UpdateEvent[] = [];
  readonly requests: { method: string; path: string }[] = [];
  private server: Server | undefined;
  private pending: { force: boolean } | null = null;
  private applying: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private status = 'Idle';
  lastError: string | null = null;
  /** what the lock file held when an update was deferred (who held it) */
  lockSeen: string | null = null;
  address = '';

  constructor(options: SupervisorDoubleOptions) {
    this.options = options;
  }

  get lockPath(): string {
    return join(this.options.lockDir, 'updates.lock');
  }
  get handoverPath(): string {
    return join(this.options.lockDir, 'handover-complete');
  }

  async start(): Promise<string> {
    // The supervisor bind-mounts this directory into every container of the service.
    await mkdir(this.options.lockDir, { recursive: true });
    this.server = createServer(
      (req, res) =>
        void this.handle(req, res).catch((error: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message);
        }),
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as { port: number }).port;
    this.address = `http://127.0.0.1:${port}`;
    // The supervisor retries a deferred update periodically; the double checks every 100 ms.
    this.timer = setInterval(() => this.tryApply(), 100);
    return this.address;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.applying?.catch(() => undefined);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Resolves when the pending update has been applied. */
  async updateApplied(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending || this.applying) {
      if (Date.now() > deadline)
        throw new Error(`supervisor double: update not applied within ${timeoutMs} ms (events: ${this.events.map((e) => e.what).join(', ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async lockHeld(): Promise<boolean> {
    try {
      await access(this.lockPath);
      return true;
    } catch {
      return false;
    }
  }

  private note(what: UpdateEvent['what']): void {
    this.events.push({ at: Date.now(), what });
  }

  private tryApply(): void {
    if (!this.pending || this.applying) return;
    const { force } = this.pending;
    this.applying = (async () => {
      if (!force && (await this.lockHeld())) {
        this.lockSeen ??= await readFile(this.lockPath, 'utf8').catch(() => null);
        if (this.status !== 'Updates locked') this.note('deferred-locked');
        this.status = 'Updates locked';
        return;
      }
      this.pending = null;
      this.status = 'Applying';
      await this.handOver(force);
      this.status = 'Idle';
      this.note('applied');
    })()
      .catch((error: Error) => {
        this.status = 'Idle';
        this.lastError = error.message;
        this.note('failed');
      })
      .finally(() => {
        this.applying = null;
      });
  }

  /** The hand-over strategy: start new, wait for its signal (or the timeout), then kill old under the lock. */
  private async handOver(force: boolean): Promise<void> {
    await unlink(this.handoverPath).catch(() => undefined);
    await this.options.hooks.startNew();
    this.note('new-started');
    const deadline = Date.now() + this.options.handoverTimeoutMs;
    for (;;) {
      try {
        await access(this.handoverPath);
        this.note('handover-signalled');
        break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) {
        this.note('handover-timeout');
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // "the Supervisor itself will create such a file before killing the app"
    let took = false;
    try {
      const handle = await open(this.lockPath, 'wx');
      await handle.close();
      took = true;
    } catch (error) {
      if (!force) throw error;
    }
    try {
      await this.options.hooks.stopOld();
      this.note('old-stopped');
    } finally {
      if (took) await unlink(this.lockPath).catch(() => undefined);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname });
    const body = await readJson(req);
    if (req.method === 'GET' && url.pathname === '/ping') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    if (url.searchParams.get('apikey') !== this.options.apiKey) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
    if (req.method === 'GET' && url.pathname === '/v1/device') {
      return json(res, 200, {
        api_port: 48484,
        ip_address: '198.18.0.10',
        commit: this.options.commit,
        status: this.status,
        download_progress: null,
        os_version: 'balenaOS 6.0.0 (double)',
        supervisor_version: '17.0.0-double',
        update_pending: this.pending !== null,
        update_downloaded: this.pending !== null,
        update_failed: false,
      });
    }
    if (req.method === 'POST' && url.pathname === '/v1/update') {
      this.pending = { force: body?.force === true };
      this.note('requested');
      this.tryApply(); // the lock is checked when the update is asked for, then on every retry
      return void res.writeHead(204).end();
    }
    const restart = url.pathname.match(/^\/v2\/applications\/(\d+)\/restart-service$/);
    if (req.method === 'POST' && restart) {
      if (Number(restart[1]) !== this.options.appId || body?.serviceName !== this.options.serviceName)
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Service not found');
      if (body?.force !== true && (await this.lockHeld())) {
        this.note('restart-refused-locked');
        return void res.writeHead(423, { 'content-type': 'text/plain' }).end('Updates are locked');
      }
      this.note('restart-accepted');
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}
