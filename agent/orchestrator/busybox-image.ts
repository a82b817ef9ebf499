// The station/busybox image every orchestrated node holds without a registry (none is reachable
// from many homes, nor from these machines): a root filesystem of the host's busybox-static with a
// link per applet, as a tar that `docker import` turns into an image. Made once per busybox version
// under <stateDir>/orchestrator/, then streamed into each node.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, symlink, copyFile, chmod } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import type { Runner } from '../exec.ts';

const BUSYBOX = '/bin/busybox';

/** "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary." -> 1.35.0 (pure). */
export function parseBusyboxVersion(help: string): string {
  const m = /^BusyBox v(\d+\.\d+\.\d+)/m.exec(help);
  if (!m) throw new Error(`busybox --help does not name a version: ${help.split('\n')[0]?.slice(0, 80) ?? ''}`);
  return m[1]!;
}

export class BusyboxImage {
  private readonly dir: string;
  private readonly run: Runner;
  private made: Promise<{ tag: string; file: string }> | null = null;

  constructor(stateDir: string, run: Runner) {
    this.dir = join(stateDir, 'orchestrator');
    this.run = run;
  }

  /** The image's tag (busybox's version) and its tar; made on first use. */
  async image(): Promise<{ tag: string; tar: () => Readable }> {
    this.made ??= this.make().catch((error: Error) => {
      this.made = null; // tried again next time
      throw error;
    });
    const { tag, file } = await this.made;
    return { tag, tar: () => createReadStream(file) };
  }

  private async make(): Promise<{ tag: string; file: string }> {
    const help = await this.run([BUSYBOX, '--help'], { allowFailure: true });
    const tag = parseBusyboxVersion(help.stdout + help.stderr);
    const file = join(this.dir, `busybox-${tag}.tar`);
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      return { tag, file };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const root = await mkdtemp(join(this.dir, 'busybox-root-'));
    try {
      await mkdir(join(root, 'bin'));
      for (const dir of ['tmp', 'etc', 'www', 'proc', 'sys', 'dev']) await mkdir(join(root, dir));
      await chmod(join(root, 'tmp'), 0o1777);
      await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
      await chmod(join(root, 'bin', 'busybox'), 0o755);
      const applets = (await this.run([BUSYBOX, '--list'])).stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
      for (const applet of applets) await symlink('busybox', join(root, 'bin', applet));
      const partial = `${file}.partial`;
      await this.run(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', partial, '.'], { timeoutMs: 120_000 });
      await rename(partial, file);
      return { tag, file };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
}
