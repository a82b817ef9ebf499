// Capability probes: what this station can do and, when it cannot, why. Each probe is cheap and
// independent; a probe that throws reports itself unavailable instead of failing the report.
import type { HostAccess } from './host.ts';
import { parseKernelConfig, parseModuleList, moduleAvailability, MICROK8S_KERNEL_MODULES, type ModuleEvidence } from './parsers/kernel-config.ts';
import { parseMounts, cgroupLayout, type CgroupLayout } from './parsers/mounts.ts';

export interface Capability {
  id: string;
  available: boolean;
  /** one sentence for people: what works, or what is missing and what it disables */
  reason: string;
  details?: Record<string, unknown>;
}

export interface ProbeContext {
  host: HostAccess;
  /** where node root filesystems live (free space is measured there) */
  nodePath: string;
  /** a node needs at least this much free disk to be worth offering (default 1 GiB) */
  minNodeDiskBytes?: number;
}

interface Shared {
  config: ReturnType<typeof parseKernelConfig> | undefined;
  cgroups: CgroupLayout;
  evidence: ModuleEvidence;
}

async function gatherShared(host: HostAccess): Promise<Shared> {
  const release = (await host.readText('/proc/sys/kernel/osrelease'))?.trim() ?? '';
  const configText = (await host.readText('/proc/config.gz')) ?? (await host.readText(`/boot/config-${release}`));
  const config = configText ? parseKernelConfig(configText) : undefined;
  const loadedText = await host.readText('/proc/modules');
  const builtinText = await host.readText(`/lib/modules/${release}/modules.builtin`);
  const depText = await host.readText(`/lib/modules/${release}/modules.dep`);
  const evidence: ModuleEvidence = {
    config,
    loaded: loadedText !== null ? parseModuleList(loadedText) : undefined,
    builtin: builtinText !== null ? parseModuleList(builtinText) : undefined,
    installed: depText !== null ? parseModuleList(depText) : undefined,
  };
  const cgroups = cgroupLayout(parseMounts((await host.readText('/proc/self/mounts')) ?? ''));
  return { config, cgroups, evidence };
}

const version = (text: string): string => /(\d+\.\d+(\.\d+)?)/.exec(text)?.[1] ?? text.trim().split('\n')[0] ?? '';

async function tool(host: HostAccess, argv: string[]): Promise<{ ok: boolean; version: string; error: string }> {
  try {
    const out = await host.run(argv);
    return { ok: out.exitCode === 0, version: version(`${out.stdout}\n${out.stderr}`), error: out.stderr.trim().split('\n')[0] ?? '' };
  } catch (error) {
    return { ok: false, version: '', error: (error as Error).message };
  }
}

type Probe = (ctx: ProbeContext, shared: Shared) => Promise<Capability>;

const probes: Record<string, Probe> = {
  async cgroups(_ctx, { cgroups }) {
    const ok = cgroups.version !== 'none' && (cgroups.version === 'v2' || ['cpu', 'memory'].every((c) => cgroups.v1Controllers.includes(c)));
    return {
      id: 'cgroups',
      available: ok,
      reason: ok
        ? `cgroup ${cgroups.version} layout: node CPU and memory limits can be enforced`
        : `no usable cgroup mounts (${cgroups.version}): node limits cannot be enforced`,
      details: { ...cgroups },
    };
  },
  async lxc({ host }, { cgroups }) {
    const lxc = await tool(host, ['lxc-start', '--version']);
    if (!lxc.ok) return { id: 'lxc', available: false, reason: `lxc-start is not usable (${lxc.error || 'not installed'}): Disposable Nodes are off` };
    if (cgroups.version === 'none')
      return {
        id: 'lxc',
        available: false,
        reason: 'LXC is installed but no cgroup hierarchy is mounted',
        details: { version: lxc.version },
      };
    return { id: 'lxc', available: true, reason: `LXC ${lxc.version} can run Disposable Nodes`, details: { version: lxc.version } };
  },
  async nesting(_ctx, { config, cgroups }) {
    const userns = config?.get('CONFIG_USER_NS');
    if (userns === 'n') return { id: 'nesting', available: false, reason: 'the kernel has no user namespaces: nodes cannot run containers inside them' };
    if (cgroups.version === 'none') return { id: 'nesting', available: false, reason: 'no cgroup hierarchy: nested containers cannot be limited' };
    const needsForce = cgroups.version !== 'v2';
    return {
      id: 'nesting',
      available: true,
      reason: needsForce
        ? `nodes can run containers inside them; on this cgroup ${cgroups.version} host the nesting profile mounts cgroups with cgroup:rw:force`
        : 'nodes can run containers inside them',
      details: { cgroupForce: needsForce },
    };
  },
  async tun({ host }) {
    const kind = await host.kind('/dev/net/tun');
    return kind === 'char'
      ? { id: 'tun', available: true, reason: '/dev/net/tun is present: the mesh (Nebula) can make its interface' }
      : { id: 'tun', available: false, reason: '/dev/net/tun is missing: the mesh cannot start' };
  },
  async nftables({ host }, { config }) {
    if (config?.get('CONFIG_NF_TABLES') === 'n')
      return { id: 'nftables', available: false, reason: 'the kernel has no nftables: node traffic cannot be controlled' };
    const nft = await tool(host, ['nft', '--version']);
    return nft.ok
      ? {
          id: 'nftables',
          available: true,
          reason: `nftables ${nft.version} can enforce node ingress and egress`,
          details: { version: nft.version },
        }
      : {
          id: 'nftables',
          available: false,
          reason: `nft is not usable (${nft.error || 'not installed'}): node traffic cannot be controlled`,
        };
  },
  async kvm({ host }) {
    const dev = await host.kind('/dev/kvm');
    const flags = (await host.readText('/proc/cpuinfo')) ?? '';
    const hw = /\b(vmx|svm)\b/.exec(flags)?.[1] ?? null;
    if (dev !== 'char')
      return {
        id: 'kvm',
        available: false,
        reason: '/dev/kvm is missing: virtual machines would run under software emulation only',
        details: { cpuVirtualization: hw },
      };
    if (!hw)
      return {
        id: 'kvm',
        available: false,
        reason: '/dev/kvm exists but the CPU shows no vmx/svm (paravirtual host): virtual machines run under software emulation',
        details: { cpuVirtualization: null },
      };
    return { id: 'kvm', available: true, reason: `hardware virtualisation (${hw}) through /dev/kvm`, details: { cpuVirtualization: hw } };
  },
  async 'microk8s-kernel'(_ctx, { evidence }) {
    const modules = Object.fromEntries(Object.keys(MICROK8S_KERNEL_MODULES).map((m) => [m, moduleAvailability(m, evidence)]));
    const missing = Object.entries(modules)
      .filter(([, state]) => state === 'missing')
      .map(([m]) => m);
    const unknown = Object.entries(modules)
      .filter(([, state]) => state === 'unknown')
      .map(([m]) => m);
    if (missing.length)
      return {
        id: 'microk8s-kernel',
        available: false,
        reason: `the kernel lacks ${missing.join(', ')}: MicroK8s nodes start, but kube-proxy's IPVS mode and features using these are unavailable`,
        details: { modules, missing },
      };
    if (unknown.length)
      return {
        id: 'microk8s-kernel',
        available: true,
        reason: `could not verify ${unknown.join(', ')} (no kernel config or module list)`,
        details: { modules, missing },
      };
    return {
      id: 'microk8s-kernel',
      available: true,
      reason: 'every kernel module MicroK8s needs is present',
      details: { modules, missing },
    };
  },
  async 'node-disk'({ host, nodePath, minNodeDiskBytes = 1024 ** 3 }) {
    const space = await host.freeSpace(nodePath);
    if (!space) return { id: 'node-disk', available: false, reason: `cannot measure free space at ${nodePath}` };
    const gib = (space.freeBytes / 1024 ** 3).toFixed(1);
    return space.freeBytes >= minNodeDiskBytes
      ? { id: 'node-disk', available: true, reason: `${gib} GiB free for nodes at ${nodePath}`, details: space }
      : { id: 'node-disk', available: false, reason: `only ${gib} GiB free at ${nodePath}: new nodes are refused`, details: space };
  },
  async gpio({ host }, { config }) {
    const sysfs = await host.kind('/sys/class/gpio');
    const chip = await host.kind('/dev/gpiochip0');
    if (sysfs === 'dir' || chip === 'char')
      return {
        id: 'gpio',
        available: true,
        reason: 'GPIO lines are available for the LED and link button',
        details: { sysfs: sysfs === 'dir', chardev: chip === 'char' },
      };
    const why = config?.get('CONFIG_GPIOLIB') === 'n' ? 'the kernel has no GPIO support (GPIOLIB)' : 'no GPIO controller is present';
    return { id: 'gpio', available: false, reason: `${why}: the LED and link button are off; use the page or CLI instead` };
  },
  async nebula({ host }) {
    const nebula = await tool(host, ['nebula', '-version']);
    return nebula.ok
      ? {
          id: 'nebula',
          available: true,
          reason: `Nebula ${nebula.version} can join this station to the mesh`,
          details: { version: nebula.version },
        }
      : { id: 'nebula', available: false, reason: `nebula is not usable (${nebula.error || 'not installed'}): the mesh is off` };
  },
  async btrfs(_ctx, { config }) {
    const v = config?.get('CONFIG_BTRFS_FS');
    const ok = v === 'y' || v === 'm';
    return {
      id: 'btrfs',
      available: ok,
      reason: ok ? 'btrfs is available for node volumes and snapshots' : 'the kernel has no btrfs: volumes fall back to plain directories, no snapshots',
    };
  },
};

export const CAPABILITY_IDS = Object.keys(probes);

export async function probeCapabilities(ctx: ProbeContext): Promise<Capability[]> {
  const shared = await gatherShared(ctx.host);
  return Promise.all(
    Object.entries(probes).map(async ([id, probe]) => {
      try {
        return await probe(ctx, shared);
      } catch (error) {
        return { id, available: false, reason: `probe failed: ${(error as Error).message}` };
      }
    }),
  );
}
