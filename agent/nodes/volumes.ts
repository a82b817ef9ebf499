// Node volumes: the storage room keeps them (agent/storage/); here only what a node's spec says about
// them. They outlive the container (recreate and destroy keep them) and go only on an explicit request.
// A volume's sizeMB is its limit: a btrfs qgroup set when the volume is made and set again whenever
// the node is built from a spec that says otherwise (a node created again on kept volumes). The dir
// driver cannot keep a limit, so a spec that asks for one there is refused before anything is made.
import { chmod } from 'node:fs/promises';
import { ValidationError } from '../errors.ts';
import type { VolumeDriver } from '../storage/driver.ts';
import type { NodeSpec } from './spec.ts';
import type { VolumeUsageView } from './view.ts';

// private: only root (the node's root) may enter; shared and public: other local users may read.
const MODE = { private: 0o700, shared: 0o750, public: 0o755 } as const;
const MiB = 1024 * 1024;

/** 400 when the spec sets a size the driver cannot enforce (checked before any volume is made). */
export function checkVolumeSizes(storage: VolumeDriver, spec: NodeSpec): void {
  const sized = spec.volumes.filter((v) => v.sizeMB !== undefined);
  if (!sized.length || storage.supports.quotas) return;
  throw new ValidationError(
    'VOLUME_SIZE_UNSUPPORTED',
    `volumes[${sized[0]!.name}].sizeMB: this station keeps volumes as plain directories (storage driver ${storage.name}), which cannot ` +
      'enforce a size; leave sizeMB out, or run the station with btrfs storage (storageDriver auto or btrfs)',
  );
}

export async function ensureVolumes(storage: VolumeDriver, spec: NodeSpec): Promise<void> {
  checkVolumeSizes(storage, spec);
  for (const volume of spec.volumes) {
    const ref = { node: spec.name, volume: volume.name };
    const quotaBytes = volume.sizeMB === undefined ? null : volume.sizeMB * MiB;
    if (!(await storage.volumeExists(ref))) await storage.createVolume(ref, quotaBytes === null ? {} : { quotaBytes });
    else if (storage.supports.quotas) await keepLimit(storage, ref, quotaBytes);
    await chmod(storage.mountSource(ref), MODE[volume.class]);
  }
}

/** Sets the volume's limit to the spec's where it differs (a volume that cannot have one has none to clear). */
async function keepLimit(storage: VolumeDriver, ref: { node: string; volume: string }, quotaBytes: number | null): Promise<void> {
  const current = quotaBytes === null ? await storage.volumeUsage(ref).catch(() => ({ quotaBytes: null })) : await storage.volumeUsage(ref);
  if (current.quotaBytes !== quotaBytes) await storage.setVolumeQuota(ref, quotaBytes);
}

/** What each of the node's volumes holds and its limit, for the node view (null where it cannot be read). */
export async function volumeUsage(storage: VolumeDriver, spec: NodeSpec): Promise<VolumeUsageView[]> {
  const rows: VolumeUsageView[] = [];
  for (const volume of spec.volumes) {
    const usage = await storage.volumeUsage({ node: spec.name, volume: volume.name }).catch(() => null);
    rows.push({ name: volume.name, usedBytes: usage?.usedBytes ?? null, quotaBytes: usage?.quotaBytes ?? null });
  }
  return rows;
}
