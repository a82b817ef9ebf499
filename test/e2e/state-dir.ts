// A state directory for an agent a test starts, removed at cleanup after the agent has stopped
// (registered before startAgent, so it runs after the agent's own cleanup: undos run newest first).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

export async function tempStateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-state-`));
  onCleanup(`state dir ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}
