// Live stats of a node from its cgroups: CPU time, memory use and limit, process count. Supports
// cgroup v1 (per-controller hierarchies, this host), v2 (unified) and hybrids. Pure: the driver
// reads the files these functions name.
import type { MountEntry } from '../../../hardware/parsers/mounts.ts';
import type { NodeStats } from '../driver.ts';

export interface ProcCgroupLine {
  id: string;
  controllers: string[];
  path: string;
}

/** /proc/PID/cgroup: "4:memory:/lxc.payload.web" and "0::/lxc.payload.web" (v2). */
export function parseProcCgroup(text: string): ProcCgroupLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const first = line.indexOf(':');
      const second = line.indexOf(':', first + 1);
      return {
        id: line.slice(0, first),
        controllers: line
          .slice(first + 1, second)
          .split(',')
          .filter(Boolean),
        path: line.slice(second + 1),
      };
    });
}

/**
 * The container's own cgroup: init may sit in a child (systemd moves itself to /init.scope), so
 * the path is cut after the `lxc.payload.*` segment LXC made for the container.
 */
export function containerCgroupPath(path: string): string {
  const parts = path.split('/');
  const i = parts.findIndex((p) => p.startsWith('lxc.payload.'));
  return i < 0 ? path : parts.slice(0, i + 1).join('/');
}

export interface StatFiles {
  layout: 'v1' | 'v2';
  cpu: string | null;
  memory: string | null;
  memoryLimit: string | null;
  pids: string | null;
}

/** Which files hold a container's stats, from the host's mounts and its init's /proc/PID/cgroup. */
export function statFiles(mounts: MountEntry[], procCgroup: ProcCgroupLine[]): StatFiles {
  const v1Mount = (controller: string): string | null => mounts.find((m) => m.type === 'cgroup' && m.options.includes(controller))?.target ?? null;
  const v2Mount = mounts.find((m) => m.type === 'cgroup2')?.target ?? null;
  const v1Path = (controller: string): string | null => {
    const mount = v1Mount(controller);
    const line = procCgroup.find((l) => l.controllers.includes(controller));
    return mount && line ? `${mount}${containerCgroupPath(line.path)}` : null;
  };
  const unified = procCgroup.find((l) => l.id === '0' && l.controllers.length === 0);
  const v2Dir = v2Mount && unified ? `${v2Mount}${containerCgroupPath(unified.path)}` : null;
  const memoryV1 = v1Path('memory');
  if (memoryV1) {
    const cpuacct = v1Path('cpuacct');
    const pids = v1Path('pids');
    return {
      layout: 'v1',
      cpu: cpuacct ? `${cpuacct}/cpuacct.usage` : v2Dir ? `${v2Dir}/cpu.stat` : null,
      memory: `${memoryV1}/memory.usage_in_bytes`,
      memoryLimit: `${memoryV1}/memory.limit_in_bytes`,
      pids: pids ? `${pids}/pids.current` : v2Dir ? `${v2Dir}/pids.current` : null,
    };
  }
  if (!v2Dir) return { layout: 'v2', cpu: null, memory: null, memoryLimit: null, pids: null };
  return {
    layout: 'v2',
    cpu: `${v2Dir}/cpu.stat`,
    memory: `${v2Dir}/memory.current`,
    memoryLimit: `${v2Dir}/memory.max`,
    pids: `${v2Dir}/pids.current`,
  };
}

// v1 reports "no limit" as a huge page-aligned number (0x7FFFFFFFFFFFF000 on 64-bit).
const UNLIMITED_V1 = 2 ** 62;

/** Turns the contents of the stat files into NodeStats (null content: the file was unreadable). */
export function parseStats(content: { cpu: string | null; memory: string | null; memoryLimit: string | null; pids: string | null }): NodeStats {
  let cpuSeconds = 0;
  if (content.cpu !== null) {
    const usec = /^usage_usec\s+(\d+)/m.exec(content.cpu);
    cpuSeconds = usec ? Number(usec[1]) / 1e6 : Number(content.cpu.trim()) / 1e9;
  }
  const memoryBytes = content.memory !== null ? Number(content.memory.trim()) || 0 : 0;
  let memoryLimitBytes: number | null = null;
  const limit = content.memoryLimit?.trim();
  if (limit && limit !== 'max') {
    const n = Number(limit);
    memoryLimitBytes = Number.isFinite(n) && n < UNLIMITED_V1 ? n : null;
  }
  const processes = content.pids !== null ? Number(content.pids.trim()) || 0 : 0;
  return { cpuSeconds, memoryBytes, memoryLimitBytes, processes };
}
