// Profiles as LXC configuration: pure functions from a profile (and host facts) to config lines.
// What each profile may not do to the host (seccomp, capabilities, devices) is in confinement.ts.
//   plain    : nothing beyond the template's base configuration and the strictest confinement
//   nesting  : the node can run containers (LXC, Docker, K3s, Nomad) inside itself
//   microk8s : the canonical MicroK8s LXD profile translated to LXC keys
import { ValidationError } from '../../errors.ts';
import type { ProfileName } from '../driver.ts';
import type { HostFacts, RenderedProfile } from './types.ts';

export const NESTING_CONF = '/usr/share/lxc/config/nesting.conf';

/**
 * The modules the MicroK8s LXD profile loads (linux.kernel_modules), without its ip_vs* four: this
 * kernel and many others lack IPVS, and kube-proxy runs in iptables mode without it.
 */
export const MICROK8S_MODULES = ['ip_tables', 'ip6_tables', 'netlink_diag', 'nf_nat', 'overlay', 'br_netfilter'];
/** the profile's modules left out, said in the rendered config so a reader comparing with LXD's sees why */
const LEFT_OUT_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh'];

const v1 = (host: HostFacts, controller: string): boolean => host.v1Controllers.includes(controller);

function nestingLines(mountAuto: string): string[] {
  return [
    `lxc.include = ${NESTING_CONF}`,
    // An empty value first clears what the template's common.conf set, so the flags below are the only ones.
    'lxc.mount.auto =',
    // On cgroup v1 hosts nested lxc-start and dockerd fail on cgroups without rw:force (found by trial here).
    `lxc.mount.auto = ${mountAuto}`,
    'lxc.apparmor.profile = unconfined',
  ];
}

function allDevices(host: HostFacts): string[] {
  return v1(host, 'devices') ? ['lxc.cgroup.devices.deny =', 'lxc.cgroup.devices.allow = a'] : ['lxc.cgroup2.devices.deny =', 'lxc.cgroup2.devices.allow = a'];
}

export function renderProfile(profile: ProfileName, host: HostFacts): RenderedProfile {
  switch (profile) {
    case 'plain':
      return { lines: ['# profile: plain'], warnings: [] };
    case 'nesting':
      return { lines: ['# profile: nesting', ...nestingLines('proc:mixed sys:mixed cgroup:rw:force')], warnings: [] };
    case 'microk8s': {
      const missing = MICROK8S_MODULES.filter((m) => host.kernelModules[m] === 'missing');
      const unknown = MICROK8S_MODULES.filter((m) => !host.kernelModules[m] || host.kernelModules[m] === 'unknown');
      const warnings = [
        ...(missing.length ? [`kernel modules missing on this host (features needing them will not work in the node): ${missing.join(', ')}`] : []),
        ...(unknown.length ? [`kernel module availability unknown: ${unknown.join(', ')}`] : []),
      ];
      const lines = [
        '# profile: microk8s (the canonical MicroK8s LXD profile as LXC keys)',
        '# boot.autostart: "true"',
        'lxc.start.auto = 1',
        `# linux.kernel_modules: ${MICROK8S_MODULES.map((m) => `${m}=${host.kernelModules[m] ?? 'unknown'}`).join(' ')}`,
        `# left out: ${LEFT_OUT_MODULES.join(' ')} (kube-proxy uses iptables; IPVS is missing from many kernels)`,
        '# security.nesting: "true"',
        `lxc.include = ${NESTING_CONF}`,
        // security.privileged: "true" -- an LXC container started by root without lxc.idmap is privileged
        '# security.privileged: "true" (no lxc.idmap: root in the node is root on the host)',
        // raw.lxc of the profile; cgroup gains :force for this kind of host (nested runtimes need it)
        'lxc.apparmor.profile = unconfined',
        'lxc.mount.auto =',
        'lxc.mount.auto = proc:rw sys:rw cgroup:rw:force',
        ...allDevices(host),
        'lxc.cap.drop =',
        // devices of the profile (aadisable..aadisable4): bind mounts from the host
        'lxc.mount.entry = /dev/kmsg dev/kmsg none bind,optional,create=file 0 0',
        'lxc.mount.entry = /sys/fs/bpf sys/fs/bpf none rbind,optional,create=dir 0 0',
        'lxc.mount.entry = /sys/module/nf_conntrack/parameters/hashsize sys/module/nf_conntrack/parameters/hashsize none bind,optional,create=file 0 0',
        'lxc.mount.entry = /proc/sys/net/netfilter/nf_conntrack_max proc/sys/net/netfilter/nf_conntrack_max none bind,optional,create=file 0 0',
      ];
      return { lines, warnings };
    }
    default:
      throw new ValidationError('UNKNOWN_PROFILE', `unknown profile ${String(profile)}`);
  }
}

const CFS_PERIOD_US = 100_000;

/** CPU, memory and process limits as cgroup keys of the host's layout (v1 keys for v1 controllers, else cgroup2). */
export function renderLimits(limits: { cpus?: number; memoryMB?: number; processes?: number }, host: HostFacts): string[] {
  const lines: string[] = [];
  if (limits.cpus !== undefined) {
    if (!(limits.cpus > 0)) throw new ValidationError('INVALID_REQUEST', `cpus must be positive, got ${limits.cpus}`);
    const quota = Math.round(limits.cpus * CFS_PERIOD_US);
    if (v1(host, 'cpu')) lines.push(`lxc.cgroup.cpu.cfs_period_us = ${CFS_PERIOD_US}`, `lxc.cgroup.cpu.cfs_quota_us = ${quota}`);
    else lines.push(`lxc.cgroup2.cpu.max = ${quota} ${CFS_PERIOD_US}`);
  }
  if (limits.memoryMB !== undefined) {
    if (!(limits.memoryMB > 0)) throw new ValidationError('INVALID_REQUEST', `memoryMB must be positive, got ${limits.memoryMB}`);
    const bytes = Math.round(limits.memoryMB * 1024 * 1024);
    if (v1(host, 'memory')) lines.push(`lxc.cgroup.memory.limit_in_bytes = ${bytes}`);
    else lines.push(`lxc.cgroup2.memory.max = ${bytes}`);
  }
  if (limits.processes !== undefined) {
    if (!Number.isInteger(limits.processes) || limits.processes < 1)
      throw new ValidationError('INVALID_REQUEST', `processes must be a positive whole number, got ${limits.processes}`);
    lines.push(v1(host, 'pids') ? `lxc.cgroup.pids.max = ${limits.processes}` : `lxc.cgroup2.pids.max = ${limits.processes}`);
  }
  return lines;
}
