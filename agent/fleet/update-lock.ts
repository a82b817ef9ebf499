// balena's update lock, lockfile semantics: the lock is held while the file exists; it is taken by
// creating the file exclusively (O_CREAT|O_EXCL), which is what the supervisor checks before it
// kills services for an update (https://docs.balena.io/learn/deploy/release-strategy/update-locking/).
// The supervisor itself takes the same file before it kills us, so a failed exclusive create
// means an update is under way: operations must not start then.
// Several of our operations may overlap: the file is created by the first and removed by the last.
import { link, open, readFile, unlink, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConflictError } from '../errors.ts';

/** What we write into the lock file, so a lock left by a crashed agent can be recognised. */
export interface LockOwner {
  holder: 'station-agent';
  instance: string;
  pid: number;
  since: string;
}

export class UpdateLock {
  readonly path: string;
  private readonly instance: string;
  private holders = 0;
  private taking: Promise<void> | null = null;

  constructor(path: string, instance: string) {
    this.path = path;
    this.instance = instance;
  }

  get held(): boolean {
    return this.holders > 0;
  }

  /** Runs fn with the update lock held; throws UPDATE_IN_PROGRESS if the supervisor holds it. */
  async withUpdateLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.holders > 0) {
      this.holders++;
      await this.taking;
      return;
    }
    this.holders++;
    this.taking = this.create();
    try {
      await this.taking;
    } catch (error) {
      this.holders--;
      throw error;
    } finally {
      this.taking = null;
    }
  }

  private async create(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const owner: LockOwner = { holder: 'station-agent', instance: this.instance, pid: process.pid, since: new Date().toISOString() };
    // The lock appears with its owner already in it: written to a temporary name first, then linked
    // into place (link fails if the lock exists, like O_EXCL). Created empty and filled after, a
    // supervisor reading it in between saw a lock without an owner (seen under load).
    const temp = `${this.path}.${process.pid}.${this.instance}.tmp`;
    try {
      const handle = await open(temp, 'w', 0o644);
      await handle.writeFile(`${JSON.stringify(owner)}\n`);
      await handle.close();
      await link(temp, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ConflictError('UPDATE_IN_PROGRESS', 'an update of this station is being applied; try again when it has finished');
      }
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private async release(): Promise<void> {
    this.holders--;
    if (this.holders > 0) return;
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /**
   * A lock file left by an agent that died while holding it would block updates for ever. Remove
   * it only when it is ours (written by a station agent) whose instance is no longer alive.
   */
  async removeStale(isAlive: (instance: string) => boolean): Promise<boolean> {
    let owner: Partial<LockOwner>;
    try {
      owner = JSON.parse(await readFile(this.path, 'utf8')) as Partial<LockOwner>;
    } catch {
      return false; // absent, or not ours (the supervisor's or another tool's lock): leave it
    }
    if (owner.holder !== 'station-agent' || owner.instance === this.instance || isAlive(owner.instance ?? '')) return false;
    await unlink(this.path).catch(() => undefined);
    return true;
  }
}
