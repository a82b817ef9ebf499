// DOUBLE of the balena cloud API (pine/OData v7), the small part the agent and scripts/fleet use.
// See README.md here for the documented source of each shape. Test-only; 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface DoubleDevice {
  id: number;
  uuid: string;
  device_name: string;
  belongs_to__application: number;
  is_pinned_on__release: number | null;
  is_online: boolean;
  is_running__release?: number | null;
}
export interface DoubleTag {
  id: number;
  device: number;
  tag_key: string;
  value: string;
}
export interface DoubleRelease {
  id: number;
  commit: string;
  belongs_to__application: number;
  status: string;
  raw_version: string;
}
export interface DoubleApplication {
  id: number;
  slug: string;
  app_name: string;
  should_be_running__release: number | null;
  should_track_latest_release: boolean;
}

export class BalenaApiDouble {
  readonly keys: Set<string>;
  readonly devices: DoubleDevice[] = [];
  readonly tags: DoubleTag[] = [];
  readonly releases: DoubleRelease[] = [];
  readonly applications: DoubleApplication[] = [];
  readonly requests: { method: string; path: string; query: string; body: unknown }[] = [];
  private nextId = 100;
  private server: Server | undefined;
  address = '';

  constructor(keys: string[]) {
    this.keys = new Set(keys);
  }

  id(): number {
    return this.nextId++;
  }

  async start(): Promise<string> {
    this.server = createServer(
      (req, res) =>
        void this.handle(req, res).catch((error: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
        }),
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.address = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.address;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  tagsOf(deviceId: number): Record<string, string> {
    return Object.fromEntries(this.tags.filter((t) => t.device === deviceId).map((t) => [t.tag_key, t.value]));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: decodeURIComponent(url.search), body });
    const auth = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('apikey') ?? '';
    if (!this.keys.has(auth)) return json(res, 401, 'Unauthorized');
    const route = `${req.method} ${url.pathname}`;
    const filter = url.searchParams.get('$filter') ?? '';

    if (route === 'GET /v7/device')
      return json(res, 200, { d: this.matchDevices(filter).map((d) => this.expandDevice(d, url.searchParams.get('$expand') ?? '')) });
    if (route === 'GET /v7/device_tag') {
      const m = filter.match(/device eq (\d+)/);
      return json(res, 200, {
        d: this.tags.filter((t) => !m || t.device === Number(m[1])).map((t) => ({ ...t, device: { __id: t.device } })),
      });
    }
    if (route === 'POST /v7/device_tag') {
      const device = Number(body?.device);
      if (!this.devices.some((d) => d.id === device)) return json(res, 400, 'device not found');
      if (this.tags.some((t) => t.device === device && t.tag_key === body?.tag_key)) return json(res, 409, '"device" and "tag_key" must be unique.');
      const tag: DoubleTag = { id: this.id(), device, tag_key: String(body?.tag_key), value: String(body?.value ?? '') };
      this.tags.push(tag);
      return json(res, 201, { ...tag, device: { __id: device } });
    }
    const patchTag = url.pathname.match(/^\/v7\/device_tag\((\d+)\)$/);
    if (req.method === 'PATCH' && patchTag) {
      const tag = this.tags.find((t) => t.id === Number(patchTag[1]));
      if (!tag) return json(res, 404, 'Not found');
      tag.value = String(body?.value ?? '');
      return json(res, 200, 'OK');
    }
    return this.handleSdk(req, res, url, body);
  }

  /** The calls balena-sdk makes for scripts/fleet (recorded in sdk-calls.md). */
  protected handleSdk(req: IncomingMessage, res: ServerResponse, url: URL, body: Record<string, unknown> | null): void {
    let filter = url.searchParams.get('$filter') ?? '';
    let path = url.pathname;
    // resource(id): the same as a filter on id
    const byId = path.match(/^(\/v7\/\w+)\((\d+)\)$/);
    if (byId) {
      path = byId[1]!;
      filter = filter ? `id eq ${byId[2]} and ${filter}` : `id eq ${byId[2]}`;
    }
    const route = `${req.method} ${path}`;
    if (route === 'GET /v7/application') {
      const slug = filter.match(/slug eq '([^']+)'/)?.[1];
      const id = filter.match(/^\(?id eq (\d+)\b/)?.[1];
      json(res, 200, {
        d: this.applications
          .filter((a) => (slug ? a.slug === slug : id ? a.id === Number(id) : true))
          .map((a) => ({
            ...a,
            should_be_running__release: a.should_be_running__release === null ? null : { __id: a.should_be_running__release },
          })),
      });
      return;
    }
    if (route === 'GET /v7/release') {
      const app = Number(filter.match(/belongs_to__application eq (\d+)/)?.[1] ?? NaN);
      const prefix = filter.match(/startswith\(commit,'([^']+)'\)/)?.[1];
      const commit = filter.match(/commit eq '([^']+)'/)?.[1];
      const id = filter.match(/\bid eq (\d+)/)?.[1];
      const status = filter.match(/status eq '(\w+)'/)?.[1];
      json(res, 200, {
        d: this.releases
          .filter(
            (r) =>
              (Number.isNaN(app) || r.belongs_to__application === app) &&
              (!status || r.status === status) &&
              (!prefix || r.commit.startsWith(prefix)) &&
              (!commit || r.commit === commit) &&
              (!id || r.id === Number(id)),
          )
          .map((r) => ({ ...r, belongs_to__application: { __id: r.belongs_to__application } })),
      });
      return;
    }
    if (route === 'PATCH /v7/device') {
      const targets = this.matchDevices(filter);
      for (const d of targets) if ('is_pinned_on__release' in (body ?? {})) d.is_pinned_on__release = (body!.is_pinned_on__release as number | null) ?? null;
      json(res, 200, 'OK');
      return;
    }
    if (route === 'PATCH /v7/application') {
      const slug = filter.match(/slug eq '([^']+)'/)?.[1];
      const id = filter.match(/\bid eq (\d+)/)?.[1];
      for (const a of this.applications.filter((x) => (slug ? x.slug === slug : id ? x.id === Number(id) : false))) {
        if ('should_be_running__release' in (body ?? {})) a.should_be_running__release = body!.should_be_running__release as number;
        if ('should_track_latest_release' in (body ?? {})) a.should_track_latest_release = body!.should_track_latest_release as boolean;
      }
      json(res, 200, 'OK');
      return;
    }
    json(res, 404, 'Not found');
  }

  protected matchDevices(filter: string): DoubleDevice[] {
    const uuid = filter.match(/uuid eq '([^']+)'/);
    if (uuid) return this.devices.filter((d) => d.uuid === uuid[1]);
    const id = filter.match(/^\(?id eq (\d+)\b/) ?? filter.match(/^\(?id in \(([\d,]+)\)/);
    if (id) return this.devices.filter((d) => id[1]!.split(',').map(Number).includes(d.id));
    const app = filter.match(/belongs_to__application eq (\d+)/) ?? filter.match(/belongs_to__application\/any\(\w+:\(?\(?\w+\/slug eq '([^']+)'/);
    if (app) {
      const appId = /^\d+$/.test(app[1]!) ? Number(app[1]) : this.applications.find((a) => a.slug === app[1])?.id;
      return this.devices.filter((d) => d.belongs_to__application === appId);
    }
    return this.devices;
  }

  protected expandDevice(device: DoubleDevice, expand: string): Record<string, unknown> {
    const out: Record<string, unknown> = {
      ...device,
      belongs_to__application: { __id: device.belongs_to__application },
      is_pinned_on__release: device.is_pinned_on__release === null ? null : { __id: device.is_pinned_on__release },
    };
    if (expand.includes('device_tag'))
      out.device_tag = this.tags.filter((t) => t.device === device.id).map((t) => ({ id: t.id, tag_key: t.tag_key, value: t.value }));
    out.is_running__release = device.is_running__release ? { __id: device.is_running__release } : null;
    return out;
  }
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}
