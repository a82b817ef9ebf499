// Writes a node's own files (hostname, hosts, resolv.conf, modules) into its root filesystem
// before first start. For an overlay clone they go into the upper directory (offline changes to
// an unmounted overlay are allowed), for a copy into the rootfs itself.
import { mkdir, readFile, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { NodeBuild } from '../driver.ts';
import type { RootfsSpec } from './config.ts';
import { busyboxModuleFiles, debianModuleFiles, debianModuleLinks, type RootfsFile } from './modules.ts';

const writableRoot = (rootfs: RootfsSpec): string => (rootfs.kind === 'dir' ? rootfs.path : rootfs.upper);

export function identityFiles(build: NodeBuild): RootfsFile[] {
  const address = build.network.address.split('/')[0];
  return [
    { path: '/etc/hostname', content: `${build.hostname}\n` },
    { path: '/etc/hosts', content: `127.0.0.1 localhost\n${address} ${build.hostname}\n::1 localhost ip6-localhost ip6-loopback\n` },
    {
      path: '/etc/resolv.conf',
      content: build.network.dns.length ? build.network.dns.map((d) => `nameserver ${d}\n`).join('') : '# no DNS server given\n',
    },
  ];
}

export async function writeNodeFiles(build: NodeBuild, rootfs: RootfsSpec, templateRootfs: string): Promise<void> {
  const root = writableRoot(rootfs);
  const files = [...identityFiles(build)];
  if (build.template === 'busybox') {
    const inittab = await readFile(join(templateRootfs, 'etc/inittab'), 'utf8');
    files.push(...busyboxModuleFiles(build.modules, build.env, inittab));
  } else {
    files.push(...debianModuleFiles(build.modules, build.env));
  }
  for (const file of files) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    // resolv.conf may be a symlink in the template: replace the link, never write through it
    if (
      await lstat(target).then(
        (s) => s.isSymbolicLink(),
        () => false,
      )
    )
      await rm(target);
    await writeFile(target, file.content, { mode: file.mode ?? 0o644 });
  }
  if (build.template === 'debian') {
    for (const link of debianModuleLinks(build.modules)) {
      const path = join(root, link.path);
      await mkdir(dirname(path), { recursive: true });
      await rm(path, { force: true });
      await symlink(link.target, path);
    }
  }
}
