// Runs the hardware reader (read-raw-main) as a child process and takes its answer. The agent runs
// for months and idles most of the time; the reader runs a second every few minutes, so its memory
// is given back to the system as soon as it exits.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRunner } from './host.ts';
import type { RawHardware } from './report.ts';

/** The reader next to this file: read-raw-main.ts when running from source, .js when built. */
const READER = fileURLToPath(new URL(`./read-raw-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

const OBJECT_PARTS = ['system', 'cpu', 'mem', 'osInfo', 'cpuTemperature'] as const;
const LIST_PARTS = ['blockDevices', 'fsSize', 'wifiInterfaces'] as const;

/**
 * Pure: the reader's stdout as RawHardware, or a clear error when it is not that. A reading the
 * reader could not make is left out by it and listed in `missing`; here it becomes empty, so the
 * report is built from what did arrive (and says it is partial).
 */
export function parseRawHardware(stdout: string): RawHardware {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error(`hardware reader gave no JSON: ${stdout.slice(0, 120) || '(nothing)'}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('hardware reader answer is not an object');
  const raw = { ...(value as Record<string, unknown>) };
  const missing = Array.isArray(raw.missing) ? raw.missing.filter((m): m is string => typeof m === 'string') : [];
  const listed = (part: string) => missing.some((m) => m.startsWith(`${part}:`));
  for (const part of OBJECT_PARTS) {
    if (raw[part] && typeof raw[part] === 'object' && !Array.isArray(raw[part])) continue;
    if (!listed(part)) missing.push(`${part}: not in the reader's answer`);
    raw[part] = {};
  }
  for (const part of LIST_PARTS) {
    if (Array.isArray(raw[part])) continue;
    if (!listed(part)) missing.push(`${part}: not in the reader's answer`);
    raw[part] = [];
  }
  if (raw.networkInterfaces === undefined) {
    if (!listed('networkInterfaces')) missing.push("networkInterfaces: not in the reader's answer");
    raw.networkInterfaces = [];
  }
  if (!OBJECT_PARTS.some((p) => Object.keys(raw[p] as object).length > 0))
    throw new Error(`hardware reader answered without any reading (${missing.join('; ')})`);
  return { ...(raw as unknown as RawHardware), missing };
}

export async function readRawInChild(run: ProbeRunner): Promise<RawHardware> {
  const out = await run([process.execPath, READER]);
  if (out.exitCode !== 0) {
    throw new Error(`hardware reader exited with ${out.exitCode}: ${out.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  }
  return parseRawHardware(out.stdout);
}
