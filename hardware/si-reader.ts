// What systeminformation knows about this machine, read in one go. It runs in the hardware reader's
// own short-lived process (raw-reader.ts), never in the agent: the library and the garbage of its
// ~20 programs and parsers cost the long-running agent ~3 MB of resident memory for a report made
// every few minutes.
import si from 'systeminformation';
import type { RawHardware } from './report.ts';
import { collectWithin } from './within.ts';

/** How long one reading may take. About 150 ms on a PC; an emulated or loaded Pi can take 100× that. */
export const READING_BUDGET_MS = 30_000;

export async function readRaw(budgetMs = READING_BUDGET_MS): Promise<RawHardware> {
  // Targeted calls instead of getStaticData(): together they take ~150 ms instead of ~1 s.
  const { values, missing } = await collectWithin({
    system: () => si.system(), baseboard: () => si.baseboard(), cpu: () => si.cpu(), mem: () => si.mem(), osInfo: () => si.osInfo(),
    blockDevices: () => si.blockDevices(), diskLayout: () => si.diskLayout(), fsSize: () => si.fsSize(),
    networkInterfaces: () => si.networkInterfaces(), wifiInterfaces: () => si.wifiInterfaces(), cpuTemperature: () => si.cpuTemperature(),
  }, budgetMs);
  return { ...(values as unknown as RawHardware), missing };
}
