// A process started with `ip netns exec` lives in a private mount namespace whose /sys was
// remounted for the network namespace: the cgroup hierarchies under /sys/fs/cgroup are gone, and
// LXC then starts containers without cgroups (no limits, no stats) without saying so. When that
// is the case, and only inside a mount namespace other than PID 1's, the host's cgroup mounts are
// mounted again here; the machine's own mounts are never touched.
import { readFile, readlink } from 'node:fs/promises';
import type { Runner } from '../../exec.ts';
import { parseMounts, type MountEntry } from '../../../hardware/parsers/mounts.ts';

export type CgroupMountState = 'present' | 'restorable' | 'missing';

const cgroupEntries = (mounts: MountEntry[]): MountEntry[] =>
  mounts.filter((m) => m.target === '/sys/fs/cgroup' || m.target.startsWith('/sys/fs/cgroup/')).filter((m) => ['cgroup', 'cgroup2', 'tmpfs'].includes(m.type));

/** Pure: what to do given our mounts, PID 1's mounts, and whether we share PID 1's mount namespace. */
export function planCgroupMounts(own: MountEntry[], host: MountEntry[] | null, sameMountNs: boolean): { state: CgroupMountState; mounts: MountEntry[] } {
  if (own.some((m) => m.type === 'cgroup' || m.type === 'cgroup2')) return { state: 'present', mounts: [] };
  const wanted = host ? cgroupEntries(host) : [];
  if (sameMountNs || !wanted.some((m) => m.type !== 'tmpfs')) return { state: 'missing', mounts: [] };
  return { state: 'restorable', mounts: wanted };
}

async function observe(): Promise<ReturnType<typeof planCgroupMounts>> {
  const own = parseMounts(await readFile('/proc/self/mounts', 'utf8'));
  const host = await readFile('/proc/1/mounts', 'utf8').then(parseMounts, () => null);
  const [selfNs, initNs] = await Promise.all([readlink('/proc/self/ns/mnt').catch(() => 'self'), readlink('/proc/1/ns/mnt').catch(() => 'init')]);
  return planCgroupMounts(own, host, selfNs === initNs);
}

export async function cgroupMountState(): Promise<CgroupMountState> {
  return (await observe()).state;
}

/** Mounts the host's cgroup hierarchies in this (private) mount namespace when they are missing. */
export async function restoreCgroupMounts(run: Runner): Promise<CgroupMountState> {
  const plan = await observe();
  if (plan.state !== 'restorable') return plan.state;
  for (const m of plan.mounts) {
    await run(['mkdir', '-p', m.target]);
    await run(['mount', '-t', m.type, '-o', m.options.join(','), m.source, m.target]);
  }
  return (await observe()).state === 'present' ? 'present' : 'missing';
}
