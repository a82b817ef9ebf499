// Reading one file out of a read-only snapshot. The snapshot holds whatever the node wrote,
// symlinks included, and the caller names the path: a path is taken relative to the snapshot's
// root, `..` may not climb out of it, and symlinks are resolved here, component by component, only
// while they stay inside the same snapshot: a link to an absolute path (/etc/shadow would be the
// host's) or one climbing above the root is refused before anything outside is looked at, so the
// answer never tells whether a host file exists. The snapshot is read-only, so nothing can swap a
// component between the walk and the open; the open refuses a symlink as its last component
// (O_NOFOLLOW) all the same.
import { constants, type ReadStream } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
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

const MAX_LINKS = 40;

/** Resolves `rel` inside `base` the way the kernel would, one component at a time, but never looks at
 * anything outside `base`: a link to an absolute path (it names the node's root, not the snapshot's)
 * or one that climbs above `base` is refused before it is followed. Returns the resolved path. */
async function resolveInside(base: string, rel: string, shown: string): Promise<string> {
  const outside = () => new ValidationError('SNAPSHOT_PATH_OUTSIDE', `path ${JSON.stringify(shown)} leads outside the snapshot (through a symlink)`);
  const notFound = () => new NotFoundError('SNAPSHOT_FILE_NOT_FOUND', `no file ${JSON.stringify(shown)} in the snapshot`);
  const done: string[] = [];
  const todo = rel.split(sep).filter((c) => c && c !== '.');
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      if (!done.length) throw outside();
      done.pop();
      continue;
    }
    const here = join(base, ...done, part);
    const info = await lstat(here).catch(() => null);
    if (!info) throw notFound();
    if (!info.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new ValidationError('SNAPSHOT_PATH_LOOP', `path ${JSON.stringify(shown)} has too many symlinks`);
    const target = await readlink(here);
    if (isAbsolute(target)) throw outside();
    todo.unshift(...target.split('/').filter((c) => c && c !== '.'));
  }
  return join(base, ...done);
}

/** Opens `path` inside the snapshot at `root` for reading. */
export async function openSnapshotFile(root: string, path: string): Promise<SnapshotFile> {
  const rel = snapshotRelativePath(path);
  const base = await realpath(root).catch(() => {
    throw new NotFoundError('SNAPSHOT_NOT_FOUND', 'the snapshot is not there (deleted meanwhile?)');
  });
  const resolved = await resolveInside(base, rel, path);
  const handle = await open(resolved, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new ValidationError('SNAPSHOT_PATH_NOT_FILE', `${JSON.stringify(path)} is not a regular file in the snapshot`);
    return { size: info.size, stream: handle.createReadStream({ autoClose: true }) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
