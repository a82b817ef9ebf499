// Reading one file out of a read-only snapshot. The snapshot holds whatever the node wrote,
// symlinks included, and the caller names the path: a path is taken relative to the snapshot's
// root, `..` may not climb out of it, and every symlink is resolved and must land inside the same
// snapshot (a node's link to /etc/shadow resolves on the host, outside: refused). The snapshot is
// read-only, so nothing can swap a component between the check and the open; the open itself
// refuses a symlink as its last component (O_NOFOLLOW) all the same.
import { constants, type ReadStream } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, normalize, relative, sep } from 'node:path';
import { NotFoundError, ValidationError } from '../../errors.ts';

const MAX_PATH = 4096;

/** Pure: the path relative to the snapshot root, or a ValidationError. "/etc/x" and "etc/x" alike. */
export function snapshotRelativePath(path: unknown): string {
  if (typeof path !== 'string' || !path || path.length > MAX_PATH || path.includes('\0')) {
    throw new ValidationError('INVALID_SNAPSHOT_PATH', `path must be 1-${MAX_PATH} characters without NUL`);
  }
  const rel = normalize(path.replace(/^\/+/, ''));
  if (rel === '.' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ValidationError('INVALID_SNAPSHOT_PATH', `path ${JSON.stringify(path)} names no file inside the snapshot`);
  }
  return rel;
}

export interface SnapshotFile {
  size: number;
  stream: ReadStream;
}

/** Opens `path` inside the snapshot at `root` for reading. */
export async function openSnapshotFile(root: string, path: string): Promise<SnapshotFile> {
  const rel = snapshotRelativePath(path);
  const notFound = () => new NotFoundError('SNAPSHOT_FILE_NOT_FOUND', `no file ${JSON.stringify(path)} in the snapshot`);
  const base = await realpath(root);
  const resolved = await realpath(`${base}/${rel}`).catch(() => {
    throw notFound();
  });
  const inside = relative(base, resolved);
  if (!inside || inside.startsWith('..') || isAbsolute(inside)) {
    throw new ValidationError('SNAPSHOT_PATH_OUTSIDE', `path ${JSON.stringify(path)} leads outside the snapshot (through a symlink)`);
  }
  const handle = await open(resolved, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => {
    throw notFound();
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ValidationError('SNAPSHOT_PATH_NOT_FILE', `${JSON.stringify(path)} is not a regular file in the snapshot`);
    return { size: info.size, stream: handle.createReadStream({ autoClose: true }) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
