// The balena supervisor's local HTTP API, as a service sees it (BALENA_SUPERVISOR_ADDRESS, every
// call but /ping carries ?apikey=BALENA_SUPERVISOR_API_KEY).
// Reference: https://docs.balena.io/reference/supervisor/supervisor-api/
import { UnavailableError } from '../errors.ts';

/** GET /v1/device (documented fields; all optional because older supervisors omit some). */
export interface SupervisorDevice {
  api_port?: number;
  ip_address?: string;
  commit?: string;
  status?: string;
  download_progress?: number | null;
  os_version?: string;
  supervisor_version?: string;
  update_pending?: boolean;
  update_downloaded?: boolean;
  update_failed?: boolean;
}

export class SupervisorClient {
  private readonly address: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;

  constructor(address: string, apiKey: string, timeoutMs = 5000) {
    this.address = address;
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
  }

  private url(path: string, withKey = true): string {
    const url = new URL(path, `${this.address}/`);
    if (withKey) url.searchParams.set('apikey', this.apiKey);
    return url.toString();
  }

  private async call(method: string, path: string, body?: unknown, withKey = true): Promise<Response> {
    try {
      return await fetch(this.url(path, withKey), {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new UnavailableError('SUPERVISOR_UNREACHABLE', `the balena supervisor at ${this.address} cannot be reached (${(error as Error).message})`);
    }
  }

  /** GET /ping: "OK" when the supervisor is up. */
  async ping(): Promise<boolean> {
    const response = await this.call('GET', 'ping', undefined, false);
    return response.ok && (await response.text()).trim() === 'OK';
  }

  async device(): Promise<SupervisorDevice> {
    const response = await this.call('GET', 'v1/device');
    if (!response.ok) throw new UnavailableError('SUPERVISOR_ERROR', `GET /v1/device answered ${response.status}`);
    return (await response.json()) as SupervisorDevice;
  }

  /** POST /v1/update: asks the supervisor to check for and apply an update (deferred while locked unless force). */
  async update(force = false): Promise<number> {
    const response = await this.call('POST', 'v1/update', { force });
    return response.status;
  }
}
