import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { probeCapabilities, CAPABILITY_IDS } from '../../../hardware/capabilities.ts';
import type { HostAccess, CommandOutput } from '../../../hardware/host.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/host/${name}`, import.meta.url), 'utf8');

/** A host made of captured files; `tools` maps a program to its recorded --version output. */
function capturedHost(
  files: Record<string, string>,
  devices: Record<string, 'char' | 'dir'>,
  tools: Record<string, string>,
  freeBytes = 80 * 1024 ** 3,
): HostAccess {
  return {
    readText: async (path) => files[path] ?? null,
    kind: async (path) => devices[path] ?? null,
    freeSpace: async () => ({ freeBytes, totalBytes: 250 * 1024 ** 3 }),
    run: async (argv): Promise<CommandOutput> => {
      const out = tools[argv[0]!];
      return out === undefined ? { exitCode: 127, stdout: '', stderr: `${argv[0]}: not found` } : { exitCode: 0, stdout: out, stderr: '' };
    },
  };
}

const buildMachine = capturedHost(
  {
    '/proc/config.gz': fixture('kernel-config-vm.txt'),
    '/proc/self/mounts': fixture('mounts-cgroup-v1-hybrid.txt'),
    '/proc/cpuinfo': 'flags\t: fpu vme hypervisor\n',
  },
  { '/dev/net/tun': 'char', '/dev/kvm': 'char' },
  { 'lxc-start': '5.0.2\n', nft: 'nftables v1.0.6 (Lester Gooch #5)\n', nebula: 'Version: 1.6.1\n' },
);

const byId = async (host: HostAccess, free?: number) =>
  Object.fromEntries((await probeCapabilities({ host, nodePath: '/var/lib/station/lxc', minNodeDiskBytes: free })).map((c) => [c.id, c]));

test('every capability is reported, with a reason', async () => {
  const caps = await probeCapabilities({ host: buildMachine, nodePath: '/x' });
  assert.equal(caps.map((c) => c.id).sort(), [...CAPABILITY_IDS].sort());
  for (const c of caps) assert.ok(c.reason.length > 10, `${c.id} has a reason`);
});

test('the build machine as measured: LXC, nesting, tun, nftables yes; IPVS, GPIO and hardware KVM no', async () => {
  const caps = await byId(buildMachine);
  assert.ok(caps.lxc!.available);
  assert.match(caps.lxc!.reason, /LXC 5\.0\.2/);
  assert.ok(caps.nesting!.available);
  assert.match(caps.nesting!.reason, /cgroup:rw:force/);
  assert.ok(caps.tun!.available);
  assert.ok(caps.nftables!.available);
  assert.not.ok(caps['microk8s-kernel']!.available);
  assert.match(caps['microk8s-kernel']!.reason, /ip_vs, ip_vs_rr, ip_vs_wrr, ip_vs_sh/);
  assert.not.ok(caps.gpio!.available);
  assert.match(caps.gpio!.reason, /GPIOLIB/);
  assert.not.ok(caps.kvm!.available);
  assert.match(caps.kvm!.reason, /software emulation/);
  assert.ok(caps.btrfs!.available);
});

test('missing tools and devices say what they disable', async () => {
  const bare = capturedHost({ '/proc/self/mounts': fixture('mounts-cgroup-v1-hybrid.txt') }, {}, {}, 100);
  const caps = await byId(bare);
  assert.not.ok(caps.lxc!.available);
  assert.match(caps.lxc!.reason, /Disposable Nodes are off/);
  assert.not.ok(caps.tun!.available);
  assert.not.ok(caps.nebula!.available);
  assert.not.ok(caps['node-disk']!.available);
  assert.match(caps['microk8s-kernel']!.reason, /could not verify|lacks/);
});

test('a probe that throws is reported unavailable instead of failing the report', async () => {
  const broken: HostAccess = {
    ...buildMachine,
    kind: async () => {
      throw new Error('EIO');
    },
  };
  const caps = await byId(broken);
  assert.not.ok(caps.tun!.available);
  assert.match(caps.tun!.reason, /probe failed: EIO/);
  assert.ok(caps.lxc!.available);
});

test.run();
