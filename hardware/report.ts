// The hardware report: what the box is. Built from systeminformation's answers by a pure function,
// so it is tested on output captured from a real machine.
import type { Capability } from './capabilities.ts';

export interface HardwareReport {
  detectedAt: string;
  board: { manufacturer: string; model: string; serial: string | null; virtual: boolean; virtualHost: string | null };
  os: { distro: string; release: string; kernel: string; arch: string; hostname: string };
  cpu: { manufacturer: string; brand: string; cores: number; physicalCores: number; speedGHz: number | null };
  memory: { totalBytes: number; availableBytes: number };
  disks: { name: string; type: string; sizeBytes: number; model: string; removable: boolean }[];
  filesystems: { mount: string; fs: string; type: string; sizeBytes: number; availableBytes: number }[];
  network: {
    name: string;
    mac: string;
    ipv4: string[];
    ipv6: string[];
    type: string;
    state: string;
    speedMbps: number | null;
    default: boolean;
  }[];
  wifi: { name: string; model: string; vendor: string; mac: string }[];
  temperatures: { mainC: number | null; coresC: number[]; maxC: number | null };
  capabilities: Capability[];
  /** true when some readings did not arrive (a slow or odd box): the rest of the report stands */
  partial: boolean;
  /** one line per missing reading: `cpuTemperature: no answer within 30 s` */
  partialReasons: string[];
}

/** The subset of systeminformation's answers the report is made from. */
export interface RawHardware {
  system: Record<string, unknown>;
  baseboard?: Record<string, unknown>;
  cpu: Record<string, unknown>;
  mem: Record<string, unknown>;
  osInfo: Record<string, unknown>;
  blockDevices: Record<string, unknown>[];
  diskLayout?: Record<string, unknown>[];
  fsSize: Record<string, unknown>[];
  networkInterfaces: Record<string, unknown>[] | Record<string, unknown>;
  wifiInterfaces: Record<string, unknown>[];
  cpuTemperature: Record<string, unknown>;
  /** readings that failed or did not finish in time (see within.ts) */
  missing?: string[];
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const unknownSerial = (v: unknown): string | null => {
  const s = text(v);
  return !s || s === '-' || /^(to be filled( by o\.e\.m\.)?|default string|none|not specified|system serial number|0+)$/i.test(s) ? null : s;
};
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function buildHardwareReport(raw: RawHardware, capabilities: Capability[], now = new Date()): HardwareReport {
  const board = raw.baseboard ?? {};
  // Raspberry Pis report their model in system.model (from the device tree); PCs in system or baseboard.
  const model = text(raw.system.model) || text(board.model) || 'unknown';
  const serial = unknownSerial(raw.system.serial) ?? unknownSerial(board.serial) ?? unknownSerial(raw.osInfo.serial);
  const disks = raw.blockDevices
    .filter((d) => d.type === 'disk' && !/^(loop|ram|zram)/.test(text(d.name)))
    .map((d) => ({
      name: text(d.name),
      type: text(d.physical) || text(d.type),
      sizeBytes: num(d.size) ?? 0,
      model: text(d.model),
      removable: d.removable === true,
    }));
  // In some VMs diskLayout is empty and blockDevices has the disks; use whichever knows more.
  if (!disks.length && raw.diskLayout) {
    for (const d of raw.diskLayout)
      disks.push({ name: text(d.device), type: text(d.type), sizeBytes: num(d.size) ?? 0, model: text(d.name), removable: false });
  }
  const ifaces = Array.isArray(raw.networkInterfaces) ? raw.networkInterfaces : [raw.networkInterfaces];
  const cores = (raw.cpuTemperature.cores as unknown[] | undefined)?.map(num).filter((c): c is number => c !== null) ?? [];
  return {
    detectedAt: now.toISOString(),
    board: {
      manufacturer: text(raw.system.manufacturer) || text(board.manufacturer),
      model,
      serial,
      virtual: raw.system.virtual === true,
      virtualHost: text(raw.system.virtualHost) || null,
    },
    os: {
      distro: text(raw.osInfo.distro),
      release: text(raw.osInfo.release),
      kernel: text(raw.osInfo.kernel),
      arch: text(raw.osInfo.arch),
      hostname: text(raw.osInfo.hostname),
    },
    cpu: {
      manufacturer: text(raw.cpu.manufacturer),
      brand: text(raw.cpu.brand),
      cores: num(raw.cpu.cores) ?? 0,
      physicalCores: num(raw.cpu.physicalCores) ?? 0,
      speedGHz: num(raw.cpu.speed),
    },
    memory: { totalBytes: num(raw.mem.total) ?? 0, availableBytes: num(raw.mem.available) ?? 0 },
    disks,
    filesystems: raw.fsSize.map((f) => ({
      mount: text(f.mount),
      fs: text(f.fs),
      type: text(f.type),
      sizeBytes: num(f.size) ?? 0,
      availableBytes: num(f.available) ?? 0,
    })),
    network: ifaces
      .filter((n) => n.internal !== true)
      .map((n) => ({
        name: text(n.iface),
        mac: text(n.mac),
        ipv4: text(n.ip4) ? [text(n.ip4)] : [],
        ipv6: text(n.ip6) ? [text(n.ip6)] : [],
        type: text(n.type),
        state: text(n.operstate),
        speedMbps: num(n.speed) !== null && (n.speed as number) > 0 ? (n.speed as number) : null,
        default: n.default === true,
      })),
    wifi: raw.wifiInterfaces.map((w) => ({ name: text(w.iface), model: text(w.model), vendor: text(w.vendor), mac: text(w.mac) })),
    temperatures: { mainC: num(raw.cpuTemperature.main), coresC: cores, maxC: num(raw.cpuTemperature.max) },
    capabilities,
    partial: (raw.missing ?? []).length > 0,
    partialReasons: raw.missing ?? [],
  };
}
