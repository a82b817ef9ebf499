// What a profile renderer needs to know about the host: which cgroup keys apply, and which of the
// kernel modules a profile asks for are present (this kernel cannot load modules; missing ones
// are reported, not fatal).
import type { ModuleAvailability } from '../../../hardware/parsers/kernel-config.ts';

export interface HostFacts {
  /** controllers mounted as cgroup v1 (cpu, memory, ...); a controller not listed uses cgroup2 keys */
  v1Controllers: readonly string[];
  /** availability of each kernel module a profile asks for */
  kernelModules: Readonly<Record<string, ModuleAvailability>>;
}

export interface RenderedProfile {
  lines: string[];
  /** things the node asked for that this host cannot give (for progress and logs) */
  warnings: string[];
}
