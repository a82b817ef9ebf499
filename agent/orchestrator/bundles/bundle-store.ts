// Offline bundles kept on the station (<stateDir>/orchestrator/bundles/<kind>-<version>/): imported
// from a file on the station (`station bundle import FILE` -> POST /orchestrator/bundles), unpacked into a staging
// directory, checked (bundle-check.ts) and only then kept. A file that is not a bundle changes
// nothing: the staging directory goes, with a clear error.
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { Runner } from '../../exec.ts';
import type { BundleSource } from '../kube/kube-engine.ts';
import { type Bundle, BundleError, type BundleFile, checkBundle } from './bundle-check.ts';

export interface StoredBundle {
  kind: Bundle['kind'];
  version: string;
  files: string[];
  bytes: number;
  importedAt: string;
}

const MANIFEST = 'bundle.json';

async function head(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buffer, 0, 8, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export class BundleStore {
  private readonly dir: string;
  private readonly run: Runner;

  constructor(stateDir: string, run: Runner) {
    this.dir = join(stateDir, 'orchestrator', 'bundles');
    this.run = run;
  }

  async list(): Promise<StoredBundle[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    const found: StoredBundle[] = [];
    for (const e of entries.filter((x) => x.isDirectory() && !x.name.startsWith('.'))) {
      const text = await readFile(join(this.dir, e.name, MANIFEST), 'utf8').catch(() => null);
      if (text) found.push(JSON.parse(text) as StoredBundle);
    }
    return found.sort((a, b) => `${a.kind}-${a.version}`.localeCompare(`${b.kind}-${b.version}`));
  }

  /** The latest imported bundle of `kind`, its files ready to stream into a node; null when none is. */
  async newest(kind: Bundle['kind']): Promise<{ version: string; id: string; files: BundleSource[] } | null> {
    const stored = (await this.list()).filter((b) => b.kind === kind).sort((a, b) => a.importedAt.localeCompare(b.importedAt));
    const latest = stored.at(-1);
    if (!latest) return null;
    const dir = join(this.dir, `${latest.kind}-${latest.version}`);
    const files = latest.files.map((name) => ({ name, open: () => createReadStream(join(dir, name)) }));
    return { version: latest.version, id: `${latest.kind}-${latest.version}@${latest.importedAt}`, files };
  }

  /** Checks the tar at `path` (on this station) and keeps it; 400 when it is not a bundle, nothing kept. */
  async import(path: string): Promise<StoredBundle> {
    const info = await stat(path).catch(() => null);
    if (!info) throw new NotFoundError('BUNDLE_FILE_NOT_FOUND', `no file ${path} on this station`);
    if (!info.isFile()) throw new ValidationError('NOT_A_BUNDLE', `${path} is not a file`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const staging = await mkdtemp(join(this.dir, '.importing-'));
    try {
      const unpacked = await this.run(['tar', '--no-same-owner', '--no-same-permissions', '-xf', path, '-C', staging], {
        allowFailure: true,
        timeoutMs: 600_000,
      });
      if (unpacked.exitCode !== 0) throw new ValidationError('NOT_A_BUNDLE', `${path} is not a tar archive: ${unpacked.stderr.trim().split('\n')[0] ?? ''}`);
      const files: BundleFile[] = [];
      for (const e of await readdir(staging, { withFileTypes: true }))
        if (e.isFile()) files.push({ name: e.name, size: (await stat(join(staging, e.name))).size, head: await head(join(staging, e.name)) });
      let bundle: Bundle;
      try {
        bundle = checkBundle(files);
      } catch (error) {
        if (error instanceof BundleError) throw new ValidationError('NOT_A_BUNDLE', `${path}: ${error.message}`);
        throw error;
      }
      const target = join(this.dir, `${bundle.kind}-${bundle.version}`);
      if (
        await stat(target).then(
          () => true,
          () => false,
        )
      )
        throw new ConflictError('BUNDLE_EXISTS', `${bundle.kind} ${bundle.version} is imported already`);
      const kept = Object.values(bundle.files);
      for (const f of files) if (!kept.includes(f.name)) await rm(join(staging, f.name), { force: true });
      const stored: StoredBundle = {
        kind: bundle.kind,
        version: bundle.version,
        files: kept,
        bytes: files.filter((f) => kept.includes(f.name)).reduce((n, f) => n + f.size, 0),
        importedAt: new Date().toISOString(),
      };
      await writeFile(join(staging, MANIFEST), `${JSON.stringify(stored, null, 2)}\n`);
      await rename(staging, target);
      return stored;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}
