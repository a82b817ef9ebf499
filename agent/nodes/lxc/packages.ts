// Package modules: Debian packages installed into a debian node before its commands start.
// Nodes have no route off the machine (in tests, and on stations without NAT yet), so packages are
// resolved and downloaded on the host, against the template's own dpkg status (only what the
// template lacks is fetched), into a shared cache; then installed offline with dpkg inside the
// node's root filesystem (an overlay clone is mounted in a private mount namespace for that, so
// no mount outlives the install even if the agent is killed).
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../../errors.ts';
import type { Runner } from '../../exec.ts';
import { ExecError } from '../../errors.ts';
import { debFileName, parseAptSimulation, parseAptUnknownPackages } from './parse-apt.ts';
import type { RootfsSpec } from './config.ts';

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const LISTS_MAX_AGE_MS = 24 * 3600_000;

function aptOptions(templateRootfs: string, cacheDir: string): string[] {
  const o = (k: string, v: string) => ['-o', `${k}=${v}`];
  return [
    ...o('Dir::State::status', join(templateRootfs, 'var/lib/dpkg/status')),
    ...o('Dir::State::Lists', join(cacheDir, 'lists')),
    ...o('Dir::State::extended_states', join(cacheDir, 'extended_states')),
    ...o('Dir::Cache', join(cacheDir, 'apt-cache')),
    ...o('Dir::Cache::archives', join(cacheDir, 'archives')),
    ...o('Dir::Etc::SourceList', join(templateRootfs, 'etc/apt/sources.list')),
    ...o('Dir::Etc::SourceParts', join(templateRootfs, 'etc/apt/sources.list.d')),
    ...o('Dir::Etc::TrustedParts', join(templateRootfs, 'etc/apt/trusted.gpg.d')),
    ...o('Dir::Etc::PreferencesParts', join(templateRootfs, 'etc/apt/preferences.d')),
    ...o('Debug::NoLocking', '1'),
    ...o('APT::Sandbox::User', 'root'),
    ...o('APT::Install-Recommends', 'false'),
  ];
}

/** Resolves and downloads `packages` (with dependencies the template lacks); returns the .deb paths. */
export async function fetchPackages(
  hostRun: Runner,
  templateRootfs: string,
  cacheDir: string,
  packages: string[],
  progress: (line: string) => void,
): Promise<string[]> {
  const bad = packages.filter((p) => !PACKAGE_NAME.test(p));
  if (bad.length) throw new ValidationError('INVALID_PACKAGE', `invalid package names: ${bad.join(', ')}`);
  for (const dir of ['lists/partial', 'apt-cache', 'archives/partial']) await mkdir(join(cacheDir, dir), { recursive: true });
  const options = aptOptions(templateRootfs, cacheDir);
  const fresh = await stat(join(cacheDir, 'lists', 'updated')).then(
    (s) => Date.now() - s.mtimeMs < LISTS_MAX_AGE_MS,
    () => false,
  );
  if (!fresh) {
    progress('packages: apt-get update (package lists for the debian template)');
    await hostRun(['apt-get', ...options, '-q', 'update'], { timeoutMs: 600_000 });
    await hostRun(['touch', join(cacheDir, 'lists', 'updated')]);
  }
  const simulated = await hostRun(['apt-get', ...options, '-s', 'install', ...packages], { allowFailure: true, timeoutMs: 120_000 });
  if (simulated.exitCode !== 0) {
    const unknown = parseAptUnknownPackages(simulated.stderr);
    if (unknown.length) throw new ValidationError('UNKNOWN_PACKAGE', `unknown Debian packages: ${unknown.join(', ')}`, { packages: unknown });
    throw new ExecError(simulated.argv, simulated.exitCode, simulated.stdout, simulated.stderr, false);
  }
  const planned = parseAptSimulation(simulated.stdout);
  if (!planned.length) return [];
  progress(`packages: downloading ${planned.length} packages on the host (${planned.map((p) => p.name).join(' ')})`);
  await hostRun(['apt-get', ...options, '-q', '-y', '--download-only', 'install', ...packages], { timeoutMs: 1_200_000 });
  return planned.map((p) => join(cacheDir, 'archives', debFileName(p)));
}

// Runs inside `unshare -m`: the mounts live in a private mount namespace and vanish with it.
const INSTALL_SCRIPT = [
  'set -e',
  'root="$1"; lower="$2"; upper="$3"; work="$4"; shift 4',
  'if [ -n "$lower" ]; then mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$root"; fi',
  'mount -t proc proc "$root/proc"',
  'mount --rbind /dev "$root/dev"',
  'mkdir -p "$root/var/cache/station-debs"',
  'cp -- "$@" "$root/var/cache/station-debs/"',
  // no service may start inside a chroot
  'printf \'#!/bin/sh\\nexit 101\\n\' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"',
  'DEBIAN_FRONTEND=noninteractive chroot "$root" sh -c "dpkg -i /var/cache/station-debs/*.deb"',
  'rm -rf "$root/var/cache/station-debs" "$root/usr/sbin/policy-rc.d"',
].join('\n');

/** Installs .deb files into a node's root filesystem (dir or overlay clone) with dpkg. */
export async function installPackages(run: Runner, rootfs: RootfsSpec, scratch: string, debs: string[]): Promise<void> {
  if (!debs.length) return;
  let root: string;
  let overlay = ['', '', ''];
  if (rootfs.kind === 'overlay') {
    root = join(scratch, 'merged');
    const work = join(scratch, 'olwork-install');
    await mkdir(root, { recursive: true });
    await mkdir(work, { recursive: true });
    overlay = [rootfs.lower, rootfs.upper, work];
  } else {
    root = rootfs.path;
  }
  await run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', INSTALL_SCRIPT, 'sh', root, ...overlay, ...debs], {
    timeoutMs: 1_200_000,
  });
}
