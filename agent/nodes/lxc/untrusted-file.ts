// Reading files a node can write. A node is root inside, and the host folders mounted into it (its
// logs) are under its control: any name there may be a symbolic link to a host secret, a hard link
// to one, a FIFO that blocks its reader forever, a device that never ends, or a sparse file of
// terabytes. So no link is followed (every component the node controls is opened with O_NOFOLLOW
// and the next one is looked up relative to it through /proc/self/fd, so a directory swapped for
// a link cannot redirect us), nothing but a regular file with one name is read, it is opened
// non-blocking, and only its last bytes are read, from the descriptor, never the whole file.
import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';

/** How much of a node-written file is read at most: its last 256 KiB. */
export const UNTRUSTED_TAIL_BYTES = 256 * 1024;

export type UntrustedRead =
  | { kind: 'missing' }
  | { kind: 'refused'; reason: string }
  /** the last bytes of the file; `skipped` bytes before them were not read */
  | { kind: 'read'; data: Buffer; skipped: number };

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

export function describeType(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'a regular file';
}

class Refused extends Error {}

const inDir = (dir: FileHandle, name: string): string => `/proc/self/fd/${dir.fd}/${name}`;

/** Opens `name` inside `dir` without following a link; `what` it must be is checked before and after. */
async function openInside(dir: FileHandle, name: string, flags: number, what: 'directory' | 'file'): Promise<FileHandle> {
  const path = inDir(dir, name);
  // lstat first, so nothing but a directory or regular file is ever opened (opening a device can
  // have side effects); then fstat the descriptor, in case the name was swapped in between
  const seen = await lstat(path);
  const wanted = what === 'directory' ? seen.isDirectory() : seen.isFile();
  if (!wanted) throw new Refused(`${name} is ${describeType(seen)}, not a ${what === 'directory' ? 'directory' : 'regular file'}`);
  const handle = await open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  const opened = await handle.stat();
  if (opened.ino !== seen.ino || opened.dev !== seen.dev || (what === 'directory' ? !opened.isDirectory() : !opened.isFile())) {
    await handle.close();
    throw new Refused(`${name} changed while it was opened`);
  }
  return handle;
}

/**
 * The last `maxBytes` of `relative` (e.g. "logs/modules.log") inside `trustedDir`. `trustedDir`
 * is the agent's own (its path is followed as is); every component of `relative` is the node's.
 * A missing file is `missing`; anything else that is not a plain file is `refused`, with a reason.
 */
export async function readUntrustedTail(trustedDir: string, relative: string, maxBytes = UNTRUSTED_TAIL_BYTES): Promise<UntrustedRead> {
  const parts = relative.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new Error(`readUntrustedTail: ${JSON.stringify(relative)} must be a plain relative path`);
  const handles: FileHandle[] = [];
  try {
    handles.push(await open(trustedDir, O_RDONLY | O_DIRECTORY));
    for (const part of parts.slice(0, -1)) handles.push(await openInside(handles.at(-1)!, part, O_RDONLY | O_DIRECTORY, 'directory'));
    const file = await openInside(handles.at(-1)!, parts.at(-1)!, O_RDONLY, 'file');
    handles.push(file);
    const stats = await file.stat();
    // a second name means a hard link: to a file the node could otherwise not read, perhaps
    if (stats.nlink !== 1) throw new Refused(`${parts.at(-1)} has ${stats.nlink} names (a hard link)`);
    const length = Math.min(stats.size, maxBytes);
    const position = stats.size - length;
    const data = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await file.read(data, got, length - got, position + got);
      if (bytesRead === 0) break; // truncated meanwhile
      got += bytesRead;
    }
    return { kind: 'read', data: data.subarray(0, got), skipped: position };
  } catch (error) {
    if (error instanceof Refused) return { kind: 'refused', reason: error.message };
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    // ELOOP: a link swapped in after lstat; anything else (EIO, ENOTDIR...) is refused the same way
    if (code) return { kind: 'refused', reason: code === 'ELOOP' ? 'a symbolic link' : `cannot be read (${code})` };
    throw error;
  } finally {
    for (const handle of handles.reverse()) await handle.close().catch(() => {});
  }
}
