// The balena cloud through balena-sdk: the fleet's devices with their station tags, releases, and
// pinning. apiUrl comes from BALENA_API_URL (tests point it at the API double on 127.0.0.1).
import { getSdk, type BalenaSDK } from 'balena-sdk';
import { parseStationTags } from '../../agent/fleet/tags.ts';
import type { FleetDevice } from './rollout-plan.ts';

export interface Release {
  id: number;
  commit: string;
}

export async function connect(apiUrl: string, token: string): Promise<BalenaSDK> {
  // dataDirectory false: an in-memory session, nothing written to ~/.balena
  const sdk = getSdk({ apiUrl, dataDirectory: false });
  await sdk.auth.loginWithToken(token);
  return sdk;
}

const ref = (value: unknown): number | null => {
  if (value && typeof value === 'object' && '__id' in value) return (value as { __id: number }).__id;
  if (Array.isArray(value) && value[0] && typeof value[0] === 'object' && 'id' in value[0]) return (value[0] as { id: number }).id;
  return typeof value === 'number' ? value : null;
};

export async function fleetDevices(sdk: BalenaSDK, fleet: string): Promise<FleetDevice[]> {
  const devices = await sdk.models.device.getAllByApplication(fleet, {
    $select: ['id', 'uuid', 'device_name', 'is_online', 'is_running__release', 'is_pinned_on__release'],
    $expand: { device_tag: { $select: ['tag_key', 'value'] } },
  });
  return devices.map((d) => {
    const raw = d as unknown as Record<string, unknown>;
    const tags = parseStationTags((raw.device_tag as { tag_key: string; value: string }[] | undefined) ?? []);
    return {
      id: d.id,
      uuid: d.uuid,
      name: d.device_name,
      online: d.is_online,
      runningRelease: ref(raw.is_running__release),
      pinnedRelease: ref(raw.is_pinned_on__release),
      health: tags.health,
      version: tags.version,
      nodesRunning: tags.nodesRunning,
      nodesTotal: tags.nodesTotal,
    };
  });
}

export async function findRelease(sdk: BalenaSDK, fleet: string, commit: string): Promise<Release> {
  const app = await sdk.models.application.get(fleet, { $select: ['id'] });
  const releases = (await sdk.pine.get({
    resource: 'release',
    options: { $select: ['id', 'commit'], $filter: { belongs_to__application: app.id, commit: { $startswith: commit } } },
  })) as Release[];
  if (releases.length !== 1)
    throw new Error(releases.length ? `${commit} matches ${releases.length} releases; give more of the commit` : `fleet ${fleet} has no release ${commit}`);
  return releases[0]!;
}

export async function releaseCommits(sdk: BalenaSDK, fleet: string): Promise<Map<number, string>> {
  const app = await sdk.models.application.get(fleet, { $select: ['id'] });
  const releases = (await sdk.pine.get({
    resource: 'release',
    options: { $select: ['id', 'commit'], $filter: { belongs_to__application: app.id } },
  })) as Release[];
  return new Map(releases.map((r) => [r.id, r.commit]));
}
