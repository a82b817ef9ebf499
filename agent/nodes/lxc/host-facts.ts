// Reads what profile rendering needs to know about the host: cgroup layout and which kernel
// modules exist (this kind of kernel cannot load modules at all, so absence is reported).
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { cgroupLayout, parseMounts } from '../../../hardware/parsers/mounts.ts';
import { moduleAvailability, parseKernelConfig, parseModuleList, type ModuleEvidence } from '../../../hardware/parsers/kernel-config.ts';
import { MICROK8S_MODULES } from '../profiles/render.ts';
import type { HostFacts } from '../profiles/types.ts';

const text = (path: string): Promise<string | null> => readFile(path, 'utf8').catch(() => null);

export async function readHostFacts(): Promise<HostFacts> {
  const mounts = parseMounts((await text('/proc/self/mounts')) ?? '');
  const layout = cgroupLayout(mounts);
  const release = ((await text('/proc/sys/kernel/osrelease')) ?? '').trim();
  let config: string | null = null;
  try {
    config = gunzipSync(await readFile('/proc/config.gz')).toString('utf8');
  } catch {
    config = await text(`/boot/config-${release}`);
  }
  const loaded = await text('/proc/modules');
  const builtin = await text(`/lib/modules/${release}/modules.builtin`);
  const dep = await text(`/lib/modules/${release}/modules.dep`);
  const evidence: ModuleEvidence = {
    config: config ? parseKernelConfig(config) : undefined,
    loaded: loaded !== null ? parseModuleList(loaded) : undefined,
    builtin: builtin !== null ? parseModuleList(builtin) : undefined,
    installed: dep !== null ? parseModuleList(dep) : undefined,
  };
  const kernelModules = Object.fromEntries(MICROK8S_MODULES.map((m) => [m, moduleAvailability(m, evidence)]));
  return { v1Controllers: layout.v1Controllers, kernelModules };
}
