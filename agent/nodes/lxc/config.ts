// Renders a node's LXC configuration file: template base, confinement (seccomp policy, dropped
// capabilities, devices), rootfs, hostname, network (static address set by LXC before init: no
// DHCP wait), logs, volumes, profile and limits; and the node's seccomp policy. Pure.
import { join } from 'node:path';
import { ValidationError } from '../../errors.ts';
import type { NodeBuild } from '../driver.ts';
import { renderConfinement, seccompPolicy, SECCOMP_POLICY_FILE } from '../profiles/confinement.ts';
import { renderLimits, renderProfile } from '../profiles/render.ts';
import type { HostFacts } from '../profiles/types.ts';
import { vethName } from './names.ts';

export type RootfsSpec = { kind: 'dir'; path: string } | { kind: 'overlay'; lower: string; upper: string };

export interface ContainerPaths {
  /** <lxcPath>/<name> */
  dir: string;
  rootfs: RootfsSpec;
  /** host directory bind-mounted at /var/log/station (module output) */
  logDir: string;
  /** init's console output */
  consoleLog: string;
}

// What `lxc-create -t busybox` writes (less network and apparmor, which this file sets itself, and
// its lxc.cap.drop, which the confinement lines replace with a longer list).
const BUSYBOX_BASE = [
  'lxc.signal.halt = SIGUSR1',
  'lxc.signal.reboot = SIGTERM',
  'lxc.autodev = 1',
  'lxc.tty.max = 1',
  'lxc.pty.max = 1',
  'lxc.mount.auto = cgroup:mixed proc:mixed sys:ro',
  'lxc.mount.entry = shm dev/shm tmpfs defaults,create=dir 0 0',
  'lxc.mount.entry = mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0',
  'lxc.mount.entry = /sys/kernel/security sys/kernel/security none ro,bind,optional 0 0',
];

const DEBIAN_BASE = ['lxc.include = /usr/share/lxc/config/debian.common.conf', 'lxc.arch = linux64'];

const noSpace = (what: string, value: string): string => {
  if (/[\s]/.test(value)) throw new ValidationError('INVALID_REQUEST', `${what} must not contain whitespace: ${JSON.stringify(value)}`);
  return value;
};

export function rootfsValue(rootfs: RootfsSpec): string {
  return rootfs.kind === 'dir' ? `dir:${rootfs.path}` : `overlay:${rootfs.lower}:${rootfs.upper}`;
}

/** The node's seccomp policy file, referenced by its config (written next to it by the driver). */
export const seccompPolicyPath = (paths: ContainerPaths): string => join(paths.dir, SECCOMP_POLICY_FILE);

export function renderContainerConfig(build: NodeBuild, paths: ContainerPaths, host: HostFacts): { text: string; seccomp: string; warnings: string[] } {
  const profile = renderProfile(build.profile, host);
  const volumes = build.volumes.map((v) => {
    if (!v.path.startsWith('/') || v.path.split('/').includes('..'))
      throw new ValidationError('INVALID_REQUEST', `volume ${v.name}: path must be absolute without '..': ${v.path}`);
    const options = ['bind', 'create=dir', ...(v.readOnly ? ['ro'] : [])].join(',');
    return `lxc.mount.entry = ${noSpace('volume source', v.source)} ${noSpace('volume path', v.path.replace(/^\/+/, ''))} none ${options} 0 0`;
  });
  const lines = [
    `# Station node ${build.name}: written by the station agent; changes are lost on recreate.`,
    ...(build.template === 'debian' ? DEBIAN_BASE : BUSYBOX_BASE),
    ...renderConfinement(build.template, build.profile, host, seccompPolicyPath(paths)),
    `lxc.rootfs.path = ${rootfsValue(paths.rootfs)}`,
    `lxc.uts.name = ${build.hostname}`,
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${build.network.bridge}`,
    'lxc.net.0.flags = up',
    `lxc.net.0.veth.pair = ${vethName(build.name)}`,
    'lxc.net.0.name = eth0',
    `lxc.net.0.ipv4.address = ${build.network.address}`,
    `lxc.net.0.ipv4.gateway = ${build.network.gateway}`,
    ...(build.network.mtu ? [`lxc.net.0.mtu = ${build.network.mtu}`] : []),
    `lxc.console.logfile = ${paths.consoleLog}`,
    `lxc.mount.entry = ${noSpace('log dir', paths.logDir)} var/log/station none bind,create=dir 0 0`,
    ...volumes,
    // a profile that decides autostart (microk8s) overrides the node's own setting
    ...(profile.lines.some((l) => l.startsWith('lxc.start.auto')) ? [] : [`lxc.start.auto = ${build.autostart ? 1 : 0}`]),
    ...profile.lines,
    ...renderLimits({ cpus: build.cpus, memoryMB: build.memoryMB, processes: build.processes }, host),
  ];
  return { text: `${lines.join('\n')}\n`, seccomp: seccompPolicy(build.profile), warnings: profile.warnings };
}
