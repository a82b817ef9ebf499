// What balena tells a service about its device, read from the environment the supervisor sets.
// Pure: the subsystem is on only when the supervisor API feature is enabled for the service
// (label io.balena.features.supervisor-api sets BALENA_SUPERVISOR_ADDRESS and _API_KEY).
// Variable names: https://docs.balena.io/reference/supervisor/supervisor-api/ and
// https://docs.balena.io/learn/develop/runtime/#environment-variables (balena-api feature: BALENA_API_KEY/URL).
import { dirname, join } from 'node:path';

export interface FleetEnvironment {
  supervisorAddress: string;
  supervisorApiKey: string;
  /** the update lock file (lockfile semantics: held while it exists) */
  lockPath: string;
  /** the hand-over signal file, next to the lock in the service's /tmp/balena */
  handoverPath: string;
  appId: string | null;
  serviceName: string | null;
  deviceUuid: string | null;
  /** the balena API, reachable with the device's own key (io.balena.features.balena-api) */
  apiUrl: string | null;
  apiKey: string | null;
  releaseHash: string | null;
}

export const DEFAULT_LOCK_PATH = '/tmp/balena/updates.lock';

const text = (value: string | undefined): string | null => (value?.trim() ? value.trim() : null);

/** null when not running under a balena supervisor (the subsystem is then off). */
export function fleetEnvironment(env: NodeJS.ProcessEnv): FleetEnvironment | null {
  const supervisorAddress = text(env.BALENA_SUPERVISOR_ADDRESS);
  const supervisorApiKey = text(env.BALENA_SUPERVISOR_API_KEY);
  if (!supervisorAddress || !supervisorApiKey) return null;
  let url: URL;
  try {
    url = new URL(supervisorAddress);
  } catch {
    throw new Error(`BALENA_SUPERVISOR_ADDRESS is not a URL (got ${JSON.stringify(supervisorAddress)})`);
  }
  const lockPath = text(env.BALENA_APP_LOCK_PATH) ?? DEFAULT_LOCK_PATH;
  return {
    supervisorAddress: url.toString().replace(/\/$/, ''),
    supervisorApiKey,
    lockPath,
    handoverPath: join(dirname(lockPath), 'handover-complete'),
    appId: text(env.BALENA_APP_ID),
    serviceName: text(env.BALENA_SERVICE_NAME),
    deviceUuid: text(env.BALENA_DEVICE_UUID),
    apiUrl: text(env.BALENA_API_URL)?.replace(/\/$/, '') ?? null,
    apiKey: text(env.BALENA_API_KEY),
    releaseHash: text(env.BALENA_APP_RELEASE ?? env.BALENA_APP_COMMIT),
  };
}
