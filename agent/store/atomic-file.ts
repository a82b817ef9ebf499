// Writes a file so that a reader (or the agent after a crash or power cut) sees either the old
// content or the new, never a mix: write a temp file beside it, fsync it, rename over the target,
// fsync the directory so the rename itself is durable.
import { open, rename, mkdir, rm } from 'node:fs/promises';
import { openSync, writeSync, fsyncSync, closeSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

const tempName = (file: string): string => join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);

export async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = tempName(file);
  try {
    const handle = await open(temp, 'w', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Synchronous twin, for the few places that must finish before the process goes on (first start). */
export function writeFileAtomicSync(file: string, data: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = tempName(file);
  const fd = openSync(temp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
