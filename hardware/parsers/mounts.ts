// Parses /proc/self/mounts and decides which cgroup layout the host uses, which decides how a
// node's limits are written and whether nested containers need cgroup:rw:force.
export interface MountEntry {
  source: string;
  target: string;
  type: string;
  options: string[];
}

const unescapeOctal = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMounts(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [source = '', target = '', type = '', options = ''] = line.split(' ');
      return { source: unescapeOctal(source), target: unescapeOctal(target), type, options: options.split(',') };
    });
}

export interface CgroupLayout {
  /** v2: unified only; v1: legacy controllers only; hybrid: legacy controllers plus a v2 mount */
  version: 'v1' | 'v2' | 'hybrid' | 'none';
  /** legacy controllers mounted (cpu, memory, ...) */
  v1Controllers: string[];
  v2Mount: string | null;
}

const V1_CONTROLLERS = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'net_cls',
  'net_prio',
  'perf_event',
  'hugetlb',
  'rdma',
  'misc',
]);

export function cgroupLayout(mounts: MountEntry[]): CgroupLayout {
  const v1Controllers = [...new Set(mounts.filter((m) => m.type === 'cgroup').flatMap((m) => m.options.filter((o) => V1_CONTROLLERS.has(o))))].sort();
  const v2 = mounts.find((m) => m.type === 'cgroup2');
  const version = v1Controllers.length && v2 ? 'hybrid' : v1Controllers.length ? 'v1' : v2 ? 'v2' : 'none';
  return { version, v1Controllers, v2Mount: v2?.target ?? null };
}
