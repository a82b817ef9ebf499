// What the probes may look at on the host. Reading is separated from deciding: the probes are
// functions of this interface, so unit tests give them captured real files and command output.
import { readFile, stat, statfs } from 'node:fs/promises';

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}
/** Runs a program; never throws for a non-zero exit. Injected by the agent (its one command runner). */
export type ProbeRunner = (argv: readonly string[]) => Promise<CommandOutput>;

export interface HostAccess {
  readText(path: string): Promise<string | null>;
  /** 'char' | 'dir' | 'file' | 'other' | null when absent */
  kind(path: string): Promise<'char' | 'dir' | 'file' | 'other' | null>;
  freeSpace(path: string): Promise<{ freeBytes: number; totalBytes: number } | null>;
  run: ProbeRunner;
}

export function linuxHost(run: ProbeRunner): HostAccess {
  return {
    async readText(path) {
      try {
        if (path.endsWith('.gz')) {
          const { gunzipSync } = await import('node:zlib');
          return gunzipSync(await readFile(path)).toString('utf8');
        }
        return await readFile(path, 'utf8');
      } catch {
        return null;
      }
    },
    async kind(path) {
      try {
        const s = await stat(path);
        return s.isCharacterDevice() ? 'char' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
      } catch {
        return null;
      }
    },
    async freeSpace(path) {
      // The node path may not exist yet on first start: measure the nearest existing parent.
      for (let p = path; p; p = p.slice(0, Math.max(p.lastIndexOf('/'), 0))) {
        try {
          const s = await statfs(p);
          return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
        } catch {
          /* go up */
        }
        if (p === '/') break;
      }
      try {
        const s = await statfs('/');
        return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      } catch {
        return null;
      }
    },
    run,
  };
}
