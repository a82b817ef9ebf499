// The template cache: each template's root filesystem is built once into
// <templateCache>/<template>/rootfs and then cloned for every node. A build happens in a staging
// directory that is renamed into place only when complete, so an interrupted build (agent killed,
// mirror unreachable) never leaves a cache entry that looks usable. A lock file (holding the pid)
// keeps two processes from building the same template at once.
import { mkdir, readFile, rename, rm, stat, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';

export interface TemplatePaths {
  /** <cache>/<template>: a complete entry has rootfs/ and template.json */
  dir: string;
  rootfs: string;
  manifest: string;
}

export const templatePaths = (cache: string, template: string): TemplatePaths => {
  const dir = join(cache, template);
  return { dir, rootfs: join(dir, 'rootfs'), manifest: join(dir, 'template.json') };
};

export interface TemplateManifest {
  template: string;
  builtAt: string;
  builder: string;
  packages?: string[];
}

export async function readManifest(cache: string, template: string): Promise<TemplateManifest | null> {
  try {
    return JSON.parse(await readFile(templatePaths(cache, template).manifest, 'utf8')) as TemplateManifest;
  } catch {
    return null;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes <cache>/.<template>.lock; waits while a live process holds it, takes over a dead one's. */
export async function withTemplateLock<T>(cache: string, template: string, work: () => Promise<T>, waitMs = 30 * 60_000): Promise<T> {
  await mkdir(cache, { recursive: true });
  const lock = join(cache, `.${template}.lock`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (!holder || !alive(holder)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`template ${template} is being built by pid ${holder} for too long`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Runs `build(stagingDir)`, which must fill stagingDir/rootfs, then moves the staging directory
 * into place with its manifest. Leftovers of interrupted builds are removed first.
 */
export async function buildIntoCache(
  cache: string,
  template: string,
  builder: string,
  build: (staging: string) => Promise<Partial<TemplateManifest> | void>,
): Promise<void> {
  const paths = templatePaths(cache, template);
  const staging = join(cache, `.${template}.building`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const extra = (await build(staging)) ?? {};
    const manifest: TemplateManifest = { template, builtAt: new Date().toISOString(), builder, ...extra };
    await writeFile(join(staging, 'template.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(paths.dir, { recursive: true, force: true });
    await rename(staging, paths.dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

export async function isCached(cache: string, template: string): Promise<boolean> {
  const paths = templatePaths(cache, template);
  try {
    await stat(paths.manifest);
    return (await stat(paths.rootfs)).isDirectory();
  } catch {
    return false;
  }
}
