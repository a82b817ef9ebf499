// What systeminformation knows about this machine, read in one go. It runs in the hardware reader's
// own short-lived process (raw-reader.ts), never in the agent: the library and the garbage of its
// ~20 programs and parsers cost the long-running agent ~3 MB of resident memory for a report made
// every few minutes.
import os from 'node:os';
import si from 'systeminformation';
import type { RawHardware } from './report.ts';
import { collectWithin } from './within.ts';

/** How long one reading may take. About 150 ms on a PC; an emulated or loaded Pi can take 100× that. */
export const READING_BUDGET_MS = 30_000;

export async function readRaw(budgetMs = READING_BUDGET_MS): Promise<RawHardware> {
  // Targeted calls instead of getStaticData(): together they take ~150 ms instead of ~1 s.
  const { values, missing } = await collectWithin(
    {
      system: () => si.system(),
      baseboard: () => si.baseboard(),
      cpu: () => si.cpu(),
      mem: () => si.mem(),
      osInfo: () => si.osInfo(),
      blockDevices: () => si.blockDevices(),
      diskLayout: () => si.diskLayout(),
      fsSize: () => si.fsSize(),
      networkInterfaces: () => si.networkInterfaces(),
      wifiInterfaces: () => si.wifiInterfaces(),
      cpuTemperature: () => si.cpuTemperature(),
    },
    budgetMs,
  );
  return withKernelFallbacks({ ...(values as unknown as RawHardware), missing });
}

/**
 * On a slow or overloaded box the readings that matter most can miss their budget (seen under QEMU
 * at load 12: cpu and osInfo). The kernel knows the basics without any program: CPU count and
 * model, memory, kernel release, architecture, host name. The report stays partial, and says so.
 */
export function withKernelFallbacks(raw: RawHardware): RawHardware {
  let missing = raw.missing ?? [];
  const out: RawHardware = { ...raw };
  const fill = (part: string, what: string, value: () => Record<string, unknown>) => {
    if (!missing.some((m) => m.startsWith(`${part}:`))) return;
    (out as unknown as Record<string, unknown>)[part] = value();
    missing = missing.map((m) => (m.startsWith(`${part}:`) ? `${m} (${what} from the kernel)` : m));
  };
  fill('cpu', 'cores and model', () => {
    const cpus = os.cpus();
    return {
      manufacturer: '',
      brand: cpus[0]?.model ?? '',
      cores: os.availableParallelism(),
      physicalCores: 0,
      speed: cpus[0]?.speed ? cpus[0].speed / 1000 : null,
    };
  });
  fill('mem', 'total and free memory', () => ({ total: os.totalmem(), available: os.freemem() }));
  fill('osInfo', 'kernel, architecture and host name', () => ({
    distro: '',
    release: '',
    kernel: os.release(),
    arch: os.arch(),
    hostname: os.hostname(),
  }));
  return { ...out, missing };
}
