// Node volumes: the storage room keeps them (agent/storage/); here only what a node's spec says about
// them. They outlive the container (recreate and destroy keep them) and go only on an explicit request.
import { chmod } from 'node:fs/promises';
import type { VolumeDriver } from '../storage/driver.ts';
import type { NodeSpec } from './spec.ts';

// private: only root (the node's root) may enter; shared and public: other local users may read.
const MODE = { private: 0o700, shared: 0o750, public: 0o755 } as const;

export async function ensureVolumes(storage: VolumeDriver, spec: NodeSpec): Promise<void> {
  for (const volume of spec.volumes) {
    const ref = { node: spec.name, volume: volume.name };
    if (!(await storage.volumeExists(ref))) await storage.createVolume(ref);
    await chmod(storage.mountSource(ref), MODE[volume.class]);
  }
}
