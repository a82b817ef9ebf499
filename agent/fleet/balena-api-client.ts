// Device tags through the balena API, with the device's own API key (the balena-api feature gives
// a service BALENA_API_URL and BALENA_API_KEY). Tags are how the fleet tool sees each station's
// health, version and node counts without reaching the station itself.
// Resource shapes (pine/OData, API v7): https://docs.balena.io/reference/api/resources/device_tag/
// and https://docs.balena.io/reference/api/resources/device/
import { UnavailableError } from '../errors.ts';

interface ODataList<T> {
  d: T[];
}
interface DeviceTag {
  id: number;
  tag_key: string;
  value: string;
}

export class BalenaApiClient {
  private readonly apiUrl: string;
  private readonly apiKey: string;
  private deviceId: number | null = null;

  constructor(apiUrl: string, apiKey: string) {
    this.apiUrl = apiUrl;
    this.apiKey = apiKey;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T | null> {
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new UnavailableError('BALENA_API_UNREACHABLE', `the balena API cannot be reached (${(error as Error).message})`);
    }
    if (!response.ok) throw new UnavailableError('BALENA_API_ERROR', `${method} ${path.split('?')[0]} answered ${response.status}`);
    const text = await response.text();
    return text ? (JSON.parse(text) as T) : null;
  }

  /** The device's numeric id, looked up once by its uuid. */
  async resolveDevice(uuid: string): Promise<number> {
    if (this.deviceId !== null) return this.deviceId;
    const filter = encodeURIComponent(`uuid eq '${uuid.replace(/'/g, "''")}'`);
    const found = await this.call<ODataList<{ id: number }>>('GET', `/v7/device?$select=id&$filter=${filter}`);
    const id = found?.d[0]?.id;
    if (id === undefined) throw new UnavailableError('BALENA_DEVICE_UNKNOWN', `the balena API knows no device ${uuid}`);
    this.deviceId = id;
    return id;
  }

  /** Sets tags (creates or updates each key); unchanged values are not written again. */
  async setTags(uuid: string, tags: Record<string, string>): Promise<number> {
    const device = await this.resolveDevice(uuid);
    const existing = await this.call<ODataList<DeviceTag>>(
      'GET',
      `/v7/device_tag?$select=id,tag_key,value&$filter=${encodeURIComponent(`device eq ${device}`)}`,
    );
    const byKey = new Map((existing?.d ?? []).map((t) => [t.tag_key, t]));
    let written = 0;
    for (const [key, value] of Object.entries(tags)) {
      const current = byKey.get(key);
      if (current?.value === value) continue;
      if (current) await this.call('PATCH', `/v7/device_tag(${current.id})`, { value });
      else await this.call('POST', '/v7/device_tag', { device, tag_key: key, value });
      written++;
    }
    return written;
  }
}
