// Runs the hardware reader (read-raw-main) as a child process and takes its answer. The agent runs
// for months and idles most of the time; the reader runs a second every few minutes, so its memory
// is given back to the system as soon as it exits.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRunner } from './host.ts';
import type { RawHardware } from './report.ts';

/** The reader next to this file: read-raw-main.ts when running from source, .js when built. */
const READER = fileURLToPath(new URL(`./read-raw-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** Pure: the reader's stdout as RawHardware, or a clear error when it is not that. */
export function parseRawHardware(stdout: string): RawHardware {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error(`hardware reader gave no JSON: ${stdout.slice(0, 120) || '(nothing)'}`);
  }
  const raw = value as Partial<RawHardware> | null;
  if (!raw || typeof raw !== 'object' || typeof raw.system !== 'object' || typeof raw.cpu !== 'object' || typeof raw.mem !== 'object' || !Array.isArray(raw.fsSize)) {
    throw new Error('hardware reader answer lacks system, cpu, mem or fsSize');
  }
  return raw as RawHardware;
}

export async function readRawInChild(run: ProbeRunner): Promise<RawHardware> {
  const out = await run([process.execPath, READER]);
  if (out.exitCode !== 0) {
    throw new Error(`hardware reader exited with ${out.exitCode}: ${out.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  }
  return parseRawHardware(out.stdout);
}
