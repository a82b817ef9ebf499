// Node volumes on the host: stateDir/volumes/<node>/<volume>, bind-mounted into the node. They
// outlive the container (recreate and destroy keep them) and go only on an explicit request.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeSpec } from './spec.ts';
import { volumeSource } from './build.ts';

// private: only root (the node's root) may enter; shared and public: other local users may read.
const MODE = { private: 0o700, shared: 0o750, public: 0o755 } as const;

export async function ensureVolumes(volumesRoot: string, spec: NodeSpec): Promise<void> {
  if (!spec.volumes.length) return;
  await mkdir(join(volumesRoot, spec.name), { recursive: true, mode: 0o700 });
  for (const volume of spec.volumes) {
    const dir = volumeSource(volumesRoot, spec.name, volume.name);
    await mkdir(dir, { recursive: true });
    await chmod(dir, MODE[volume.class]);
  }
}

/** Removes every volume of a node (names are DNS labels, so the path cannot leave volumesRoot). */
export async function deleteVolumes(volumesRoot: string, node: string): Promise<void> {
  await rm(join(volumesRoot, node), { recursive: true, force: true });
}
