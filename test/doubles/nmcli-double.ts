// Test helper for the nmcli DOUBLE: puts test/doubles/nmcli-double first on PATH, writes the
// scenario (which recorded output answers which command) and reads back the calls made.
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const DIR = fileURLToPath(new URL('./nmcli-double/', import.meta.url));

export interface NmcliDouble {
  /** first matching rule answers: [regex on the joined argv, fixture name] */
  scenario(rules: [string, string | { stdout?: string; stderr?: string; exit?: number }][]): Promise<void>;
  calls(): Promise<string[][]>;
  /** what each `passwd-file` held when nmcli read it, its mode (octal), and the call's argv */
  passwdFiles(): Promise<{ args: string[]; content: string; mode: string }[]>;
}

export async function installNmcliDouble(): Promise<NmcliDouble> {
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-nmcli-`));
  onCleanup(`nmcli double ${dir}`, async () => (await import('node:fs/promises')).rm(dir, { recursive: true, force: true }));
  const scenarioFile = join(dir, 'scenario.json');
  const log = join(dir, 'calls.log');
  await writeFile(log, '');
  process.env.PATH = `${DIR}:${process.env.PATH}`;
  process.env.NMCLI_DOUBLE_SCENARIO = scenarioFile;
  process.env.NMCLI_DOUBLE_LOG = log;
  return {
    scenario: (rules) => writeFile(scenarioFile, JSON.stringify({ rules: rules.map(([match, reply]) => ({ match, reply })) })),
    calls: async () =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
    passwdFiles: async () =>
      (await readFile(`${log}.passwd-files`, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args: string[]; content: string; mode: string }),
  };
}
