// Parses a kernel build configuration (/proc/config.gz, /boot/config-*): CONFIG_X=y|m|"..." lines
// and "# CONFIG_X is not set" lines.
export type KernelOption = 'y' | 'm' | 'n' | string;

export function parseKernelConfig(text: string): Map<string, KernelOption> {
  const options = new Map<string, KernelOption>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (set) {
      options.set(set[1]!, set[2]!.replace(/^"|"$/g, ''));
      continue;
    }
    const unset = /^# (CONFIG_[A-Z0-9_]+) is not set$/.exec(line);
    if (unset) options.set(unset[1]!, 'n');
  }
  return options;
}

/** Kernel modules MicroK8s needs, with the config option that provides each one. */
export const MICROK8S_KERNEL_MODULES: Readonly<Record<string, string>> = {
  ip_vs: 'CONFIG_IP_VS',
  ip_vs_rr: 'CONFIG_IP_VS_RR',
  ip_vs_wrr: 'CONFIG_IP_VS_WRR',
  ip_vs_sh: 'CONFIG_IP_VS_SH',
  ip_tables: 'CONFIG_IP_NF_IPTABLES',
  ip6_tables: 'CONFIG_IP6_NF_IPTABLES',
  netlink_diag: 'CONFIG_NETLINK_DIAG',
  nf_nat: 'CONFIG_NF_NAT',
  overlay: 'CONFIG_OVERLAY_FS',
  br_netfilter: 'CONFIG_BRIDGE_NETFILTER',
};

export type ModuleAvailability = 'built-in' | 'loaded' | 'loadable' | 'missing' | 'unknown';

export interface ModuleEvidence {
  config?: Map<string, KernelOption>;
  /** names from /proc/modules (loaded now) */
  loaded?: ReadonlySet<string>;
  /** names from /lib/modules/<release>/modules.dep and modules.builtin */
  installed?: ReadonlySet<string>;
  builtin?: ReadonlySet<string>;
}

/** Decides whether a kernel module's function is present, from whatever evidence the host offers. */
export function moduleAvailability(module: string, evidence: ModuleEvidence): ModuleAvailability {
  if (evidence.loaded?.has(module)) return 'loaded';
  if (evidence.builtin?.has(module)) return 'built-in';
  const option = MICROK8S_KERNEL_MODULES[module];
  const value = option ? evidence.config?.get(option) : undefined;
  if (value === 'y') return 'built-in';
  if (value === 'm') return evidence.installed === undefined || evidence.installed.has(module) ? 'loadable' : 'missing';
  if (value === 'n' || (option && evidence.config && value === undefined)) return 'missing';
  if (evidence.installed?.has(module)) return 'loadable';
  return evidence.config || evidence.installed ? 'missing' : 'unknown';
}

/** Module names from /proc/modules, modules.builtin ("kernel/net/x/y.ko") or modules.dep lines. */
export function parseModuleList(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const first = line.trim().split(/[\s:]/)[0];
    if (!first) continue;
    const base = first
      .split('/')
      .pop()!
      .replace(/\.ko(\.[a-z]+)?$/, '')
      .replace(/-/g, '_');
    if (base) names.add(base);
  }
  return names;
}
