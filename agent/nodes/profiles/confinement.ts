// What keeps a node's code away from its host. Nodes are privileged LXC containers (no lxc.idmap:
// root in a node is root on the host) running code of any kind, so a node is an attacker and the
// kernel has to refuse the known ways out. Pure: lines for the node's LXC config and the text of
// its seccomp policy (LXC's format; the driver writes it next to the config).
//
// Every node:   seccomp denies open_by_handle_at (the "shocker" escape: a file handle names an
//               inode of the whole host file system, so a handle built for its root, opened through
//               the bind-mounted log directory, reaches every host file), kexec and module loading.
//               Dropped: dac_read_search (what open_by_handle_at needs at all) and capabilities whose
//               effects are not namespaced: the host clock, kernel modules, raw I/O, MAC policy,
//               the kernel log, audit rules, immutable files (a node could make its logs and volumes
//               undeletable for the station), wake alarms and suspend blocking.
// plain:        no sys_admin: a node that can mount gets a fresh procfs or sysfs in which the host's
//               sysctls are writable (kernel/core_pattern runs a program as host root). Debian's
//               systemd cannot mount its API file systems then, so LXC mounts them before init
//               (systemd skips its service sandboxing when it cannot set it up). Also no bpf, perf
//               events or kernel keyrings (keyrings are per uid: a node's root shares the host
//               root's); busybox plain nodes also lose mknod (LXC makes /dev before it drops it).
//               A plain node cannot mount anything (NFS, FUSE): that takes the nesting profile.
// nesting:      container engines inside need sys_admin, mknod, bpf (runc's device filter on
//               cgroup2) and keyrings (runc joins one), so they keep them; the every-node set holds.
//               Such a node can still mount a fresh procfs: trusted code only, until nodes get an
//               id map (unprivileged containers).
// microk8s:     the canonical MicroK8s LXD profile clears the capability list and allows every
//               device (snapd mounts squashfs on loop devices); it keeps LXD's default seccomp
//               policy, as under LXD. Such a node can reach the host's devices: trusted code only.
//
// Devices: the debian template's common.conf allows only the usual character devices; the busybox
// template's LXC config sets no device rules at all, so its nodes get the same allowlist here (the
// microk8s profile replaces it with "allow all").
import type { ProfileName, TemplateName } from '../driver.ts';
import type { HostFacts } from './types.ts';

export const SECCOMP_POLICY_FILE = 'seccomp.policy';

/** What LXC's common.conf drops, and the every-node additions explained above. */
const DROP_EVERY_NODE = [
  'mac_admin',
  'mac_override',
  'sys_time',
  'sys_module',
  'sys_rawio',
  'dac_read_search',
  'linux_immutable',
  'syslog',
  'audit_control',
  'audit_read',
  'wake_alarm',
  'block_suspend',
];
const DROP_PLAIN = ['sys_admin', 'bpf', 'perfmon'];
const DROP_BUSYBOX_PLAIN = ['mknod'];

const EPERM = 1;
// "no such system call" reads as "this kernel has no keyrings": runc and LXC carry on without one
const ENOSYS = 38;

/** LXC's common.seccomp (plus kexec_file_load): the floor for every node. */
const DENY_EVERY_NODE: [string, number][] = [
  ['open_by_handle_at', EPERM],
  ['kexec_load', EPERM],
  ['kexec_file_load', EPERM],
  ['init_module', EPERM],
  ['finit_module', EPERM],
  ['delete_module', EPERM],
];
const DENY_PLAIN: [string, number][] = [
  // systemd probes bpf and carries on without it
  ['bpf', EPERM],
  ['perf_event_open', EPERM],
  ['keyctl', ENOSYS],
  ['add_key', ENOSYS],
  ['request_key', ENOSYS],
  // the host's kernel log, swap, process accounting and file-system-wide notifications
  ['syslog', EPERM],
  ['swapon', EPERM],
  ['swapoff', EPERM],
  ['acct', EPERM],
  ['fanotify_init', EPERM],
];

export function droppedCapabilities(template: TemplateName, profile: ProfileName): string[] {
  if (profile === 'microk8s') return [];
  return [...DROP_EVERY_NODE, ...(profile === 'plain' ? DROP_PLAIN : []), ...(profile === 'plain' && template === 'busybox' ? DROP_BUSYBOX_PLAIN : [])];
}

export function seccompPolicy(profile: ProfileName): string {
  const deny = [...DENY_EVERY_NODE, ...(profile === 'plain' ? DENY_PLAIN : [])];
  return ['2', 'denylist', 'reject_force_umount', '[all]', ...deny.map(([call, errno]) => `${call} errno ${errno}`), ''].join('\n');
}

/** common.conf's device allowlist: make any node, read and write only these. */
const ALLOWED_DEVICES = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 136:* rwm',
  'c 10:229 rwm',
];

function deviceAllowlist(host: HostFacts): string[] {
  const key = host.v1Controllers.includes('devices') ? 'lxc.cgroup.devices' : 'lxc.cgroup2.devices';
  return [`${key}.deny = a`, ...ALLOWED_DEVICES.map((d) => `${key}.allow = ${d}`)];
}

/** What systemd mounts at boot when it can (it stops when /run or /dev/shm is missing). */
const SYSTEMD_API_MOUNTS = [
  'lxc.mount.entry = tmpfs dev/shm tmpfs rw,nosuid,nodev,create=dir 0 0',
  'lxc.mount.entry = tmpfs run tmpfs rw,nosuid,nodev,mode=755,create=dir 0 0',
  'lxc.mount.entry = tmpfs run/lock tmpfs rw,nosuid,nodev,noexec,size=5120k,create=dir 0 0',
];

/** Config lines: after the template's base (they replace its seccomp policy and add to its drops), before the profile's. */
export function renderConfinement(template: TemplateName, profile: ProfileName, host: HostFacts, policyPath: string): string[] {
  const drop = droppedCapabilities(template, profile);
  return [
    '# confinement: nodes are privileged containers and run untrusted code (agent/nodes/profiles/confinement.ts)',
    `lxc.seccomp.profile = ${policyPath}`,
    ...(drop.length ? [`lxc.cap.drop = ${drop.join(' ')}`] : []),
    ...(template === 'busybox' && profile !== 'microk8s' ? deviceAllowlist(host) : []),
    ...(template === 'debian' && profile === 'plain' ? SYSTEMD_API_MOUNTS : []),
  ];
}
