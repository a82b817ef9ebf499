// The debian template: bookworm built once with mmdebstrap from Debian's mirror. It carries what
// nodes need (systemd as init, iproute2, ca-certificates, procps) and nothing that waits for the
// network at boot: ifupdown is not installed and /etc/network/interfaces only knows `lo`, because
// LXC sets the node's static address before init starts (no DHCP wait: boots in < 1 s).
// Package modules are resolved against the template's dpkg status (agent/nodes/lxc/packages.ts).
import { mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../../exec.ts';
import { makeSubvolumeOrDirectory } from '../../storage/btrfs-fs.ts';

export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEBIAN_PACKAGES = ['systemd', 'systemd-sysv', 'iproute2', 'ca-certificates', 'procps', 'iputils-ping', 'netbase'];

export function mmdebstrapArgv(rootfs: string, mirror = DEBIAN_MIRROR): string[] {
  return ['mmdebstrap', '--variant=minbase', `--include=${DEBIAN_PACKAGES.join(',')}`, DEBIAN_SUITE, rootfs, mirror];
}

// systemd units that fail or wait for hardware inside a container; masked so boot stays quick and clean
const MASKED_UNITS = [
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-networkd-wait-online.service',
  'getty-static.service',
  'systemd-journald-audit.socket',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
];

export async function buildDebian(staging: string, run: Runner, progress: (line: string) => void): Promise<{ packages: string[] }> {
  const rootfs = join(staging, 'rootfs');
  // on btrfs the rootfs is a subvolume, so nodes that need a full clone get a snapshot instead
  if ((await makeSubvolumeOrDirectory(run, rootfs)) === 'subvolume') progress('debian: root filesystem is a btrfs subvolume');
  const lines = (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim()) progress(`debian: ${line.trim()}`);
  };
  await run(mmdebstrapArgv(rootfs), { timeoutMs: 30 * 60_000, onStderr: lines, onStdout: lines });
  await mkdir(join(rootfs, 'etc/network'), { recursive: true });
  await writeFile(
    join(rootfs, 'etc/network/interfaces'),
    '# The address is set by LXC before init starts (no DHCP, no wait).\nauto lo\niface lo inet loopback\n',
  );
  for (const unit of MASKED_UNITS) {
    const link = join(rootfs, 'etc/systemd/system', unit);
    await rm(link, { force: true });
    await symlink('/dev/null', link);
  }
  // a node's identity is made per node at first boot
  await writeFile(join(rootfs, 'etc/machine-id'), '');
  await rm(join(rootfs, 'var/lib/dbus/machine-id'), { force: true });
  await mkdir(join(rootfs, 'var/log/station'), { recursive: true });
  progress('debian: root filesystem ready');
  return { packages: DEBIAN_PACKAGES };
}
