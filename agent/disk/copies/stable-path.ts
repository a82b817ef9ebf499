// The stable path a node is backed up from. restic 0.14 finds a backup's parent (and so skips
// unchanged files) only when the path is the same every time: backing up each new snapshot at its
// own path re-reads every file (measured: 41 files new vs 39 unmodified). So each node has one
// directory, stateDir/disk/stable/<node>, holding spec.json (the node's spec) and volumes/<volume>,
// each a read-only bind mount of that volume's snapshot, mounted for one backup and always
// unmounted after it; mounts a killed agent left behind are unmounted first.
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../../errors.ts';
import type { Runner } from '../../exec.ts';
import { LABEL } from '../../storage/layout.ts';

/** One volume's snapshot to show at volumes/<volume>. */
export interface StableVolume {
  volume: string;
  /** host path of the read-only snapshot */
  source: string;
}

/** Mount points under `root` in /proc/self/mountinfo (field 5, octal escapes undone), deepest first. */
export function mountsUnder(mountinfo: string, root: string): string[] {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p === root || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

export class StablePaths {
  readonly root: string;
  private readonly run: Runner;

  constructor(options: { run: Runner; stateDir: string }) {
    this.run = options.run;
    this.root = join(options.stateDir, 'disk', 'stable');
  }

  dir(node: string): string {
    if (!LABEL.test(node)) throw new ValidationError('INVALID_NODE_NAME', `node name ${JSON.stringify(node)} is not a DNS label`);
    return join(this.root, node);
  }

  /** Unmounts whatever is mounted under `dir` (default: every node's stable path). */
  async unmountAll(dir = this.root): Promise<void> {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    for (const point of mountsUnder(info, dir)) {
      const r = await this.run(['umount', point], { allowFailure: true, timeoutMs: 30_000 });
      // busy (a reader still inside): detach it now, the kernel lets go when the reader does
      if (r.exitCode !== 0) await this.run(['umount', '-l', point], { timeoutMs: 30_000 });
    }
  }

  /** Shows the node's spec and its volumes' snapshots at the node's stable path for `work`, then
   * unmounts them, whatever `work` does. */
  async with<T>(node: string, spec: unknown, volumes: StableVolume[], work: (dir: string) => Promise<T>): Promise<T> {
    const dir = this.dir(node);
    for (const v of volumes) {
      if (!LABEL.test(v.volume)) throw new ValidationError('INVALID_VOLUME_NAME', `volume name ${JSON.stringify(v.volume)} is not a DNS label`);
    }
    await this.unmountAll(dir);
    await mkdir(join(dir, 'volumes'), { recursive: true, mode: 0o700 });
    // a volume the node no longer has must not linger in its backups: its (empty, unmounted) mount point goes
    const wanted = new Set(volumes.map((v) => v.volume));
    for (const old of await readdir(join(dir, 'volumes'))) if (!wanted.has(old)) await rmdir(join(dir, 'volumes', old));
    await writeFile(join(dir, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
    try {
      for (const v of volumes) {
        const point = join(dir, 'volumes', v.volume);
        await mkdir(point, { recursive: true });
        await this.run(['mount', '--bind', '-o', 'ro', v.source, point], { timeoutMs: 30_000 });
      }
      return await work(dir);
    } finally {
      await this.unmountAll(dir);
    }
  }
}
