// Power cuts and SIGKILL must never leave a state file that does not parse: 200 kills of a process
// writing state through the agent's store, at random moments after it acknowledged some writes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

const WRITER = new URL('../helpers/state-writer.ts', import.meta.url).pathname;
const KILLS = 200;

/**
 * Starts a writer and kills it at a random moment after it acknowledged 1 to 3 writes of its own:
 * the kill lands somewhere in a later write, whatever the machine's load (a fixed delay would, on a
 * busy machine, often kill before any write). Resolves with the highest counter acknowledged.
 */
function killWhileWriting(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const killAfter = 1 + Math.floor(Math.random() * 3);
    let seen = 0;
    let acked = 0;
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const wrote = /^wrote (\d+)$/.exec(line);
        if (!wrote) continue;
        acked = Math.max(acked, Number(wrote[1]));
        if (++seen === killAfter) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 10));
      }
    });
    child.once('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`writer ended without being killed (${signal})`))));
  });
}

test(`the state file always parses after ${KILLS} SIGKILLs mid-write`, async () => {
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-crash-`));
  try {
    const file = join(dir, 'state.json');
    let lastCounter = 0;
    for (let i = 0; i < KILLS; i++) {
      const acked = await killWhileWriting(file);
      const doc = JSON.parse(await readFile(file, 'utf8')) as { version: number; data: { counter: number; items: string[] } };
      assert.is(doc.version, 1);
      assert.is(doc.data.items.length, doc.data.counter, `kill ${i}: the document is whole`);
      assert.ok(doc.data.counter >= acked, `kill ${i}: every acknowledged write survives (on disk ${doc.data.counter}, acknowledged ${acked})`);
      assert.ok(doc.data.counter > lastCounter, `kill ${i}: the writes of this round are kept, never an older state`);
      lastCounter = doc.data.counter;
    }
    const { StateDocument } = await import('../../agent/store/document.ts');
    const reopened = new StateDocument({ file, version: 1, initial: () => ({ counter: 0, items: [] as string[] }) });
    assert.is((await reopened.load()).counter, lastCounter, 'the agent starts from the last whole state');
    assert.equal(await readdir(dir), ['state.json'], 'temp files of cut-short writes are swept at load');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
