// The busybox template: `lxc-create -t busybox` (uses the host's busybox-static, ~0.3 s) once into
// the cache. Its rcS runs udhcpc, which removes the static address LXC configured before init; the
// fixed rcS keeps the address and leaves networking to LXC.
import { readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../../exec.ts';

/** rcS without the DHCP client: the node's address, gateway and DNS come from LXC and resolv.conf. */
export function fixBusyboxRcS(text: string): string {
  const lines = text.split('\n').map((line) => (/^\s*\/?(bin\/)?udhcpc\b/.test(line) ? '# udhcpc removed by station: LXC sets the static address' : line));
  return lines.join('\n');
}

export async function buildBusybox(staging: string, run: Runner, progress: (line: string) => void): Promise<{ packages: string[] }> {
  const lxcPath = join(staging, 'lxc');
  await mkdir(lxcPath, { recursive: true });
  progress('busybox: lxc-create -t busybox');
  await run(['lxc-create', '-P', lxcPath, '-n', 'busybox', '-t', 'busybox'], { timeoutMs: 120_000 });
  const rootfs = join(staging, 'rootfs');
  await rename(join(lxcPath, 'busybox', 'rootfs'), rootfs);
  await rm(lxcPath, { recursive: true, force: true });
  const rcS = join(rootfs, 'etc/init.d/rcS');
  await writeFile(rcS, fixBusyboxRcS(await readFile(rcS, 'utf8')), { mode: 0o744 });
  await mkdir(join(rootfs, 'var/log/station'), { recursive: true });
  progress('busybox: root filesystem ready');
  return { packages: ['busybox-static (host)'] };
}
