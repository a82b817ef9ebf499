// Power cuts and SIGKILL must never leave a state file that does not parse: 200 kills of a process
// writing state through the agent's store, at random moments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const WRITER = new URL('../helpers/state-writer.ts', import.meta.url).pathname;
const KILLS = 200;

function killWhileWriting(file: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.once('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer ended without being killed (${signal})`))));
  });
}

test(`the state file always parses after ${KILLS} SIGKILLs mid-write`, async () => {
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-crash-`));
  try {
    const file = join(dir, 'state.json');
    let lastCounter = 0;
    let advanced = 0;
    for (let i = 0; i < KILLS; i++) {
      await killWhileWriting(file, Math.floor(Math.random() * 25));
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && lastCounter === 0) continue; // killed before the first write
        throw error;
      }
      const doc = JSON.parse(text) as { version: number; data: { counter: number; items: string[] } };
      assert.is(doc.version, 1);
      assert.is(doc.data.items.length, doc.data.counter, `kill ${i}: the document is whole`);
      assert.ok(doc.data.counter >= lastCounter, 'never goes back to an older state');
      if (doc.data.counter > lastCounter) advanced++;
      lastCounter = doc.data.counter;
    }
    assert.ok(advanced > KILLS / 2, `writes happened between kills (${advanced} of ${KILLS})`);
    const { StateDocument } = await import('../../agent/store/document.ts');
    const reopened = new StateDocument({ file, version: 1, initial: () => ({ counter: 0, items: [] as string[] }) });
    assert.is((await reopened.load()).counter, lastCounter, 'the agent starts from the last whole state');
    assert.equal(await readdir(dir), ['state.json'], 'temp files of cut-short writes are swept at load');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
