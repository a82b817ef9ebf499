// Observing nodes without running a program per node: the lxcpath tells which nodes exist and
// whether they are whole; /proc tells which run. Every running container has an LXC monitor whose
// command line names the lxcpath and the node, and whose child is the container's init.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '../../exec.ts';
import { processCommandLines } from '../../lib/processes.ts';
import type { ObservedNode } from '../driver.ts';
import { isContainerInit, monitorName, parseChildren } from './monitors.ts';
import { observeNodes, parseLxcInfo, type ContainerDirEntry, type LsRow } from './parse-ls.ts';
import { PARTIAL_MARKER } from './partial.ts';

export async function readContainerDirs(lxcPath: string): Promise<ContainerDirEntry[]> {
  const names = await readdir(lxcPath).catch(() => [] as string[]);
  const entries = await Promise.all(
    names.map(async (name): Promise<ContainerDirEntry | null> => {
      const files = await readdir(join(lxcPath, name)).catch(() => null);
      return files ? { name, hasConfig: files.includes('config'), hasPartialMarker: files.includes(PARTIAL_MARKER) } : null;
    }),
  );
  return entries.filter((e): e is ContainerDirEntry => e !== null);
}

/** Running containers of this lxcpath: name -> { monitor, init } from /proc (no program run). */
async function runningMonitors(lxcPath: string, only?: string): Promise<Map<string, { monitor: number; init: number | null }>> {
  const found = new Map<string, { monitor: number; init: number | null }>();
  const monitorPids: { pid: number; name: string }[] = [];
  for (const { pid, cmdline } of processCommandLines()) {
    if (!cmdline.startsWith('[lxc monitor]')) continue;
    const name = monitorName(cmdline, lxcPath);
    if (name && (!only || name === only)) monitorPids.push({ pid, name });
  }
  await Promise.all(
    monitorPids.map(async ({ pid, name }) => {
      let init: number | null = null;
      const children = parseChildren(await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => ''));
      for (const child of children) {
        if (isContainerInit(await readFile(`/proc/${child}/cgroup`, 'utf8').catch(() => ''), name)) init = child;
      }
      found.set(name, { monitor: pid, init });
    }),
  );
  return found;
}

/**
 * Observed nodes from the disk (whole or partial) and /proc (running, init pid). Only a node
 * whose monitor is alive without an init (starting or stopping right now) is asked to LXC.
 */
export async function readNodes(lxcPath: string, run: Runner, dirs: ContainerDirEntry[], only?: string): Promise<ObservedNode[]> {
  if (!dirs.length) return [];
  const monitors = await runningMonitors(lxcPath, only);
  const rows: LsRow[] = [];
  for (const dir of dirs) {
    const m = monitors.get(dir.name);
    if (!m) rows.push({ name: dir.name, state: 'stopped', pid: null });
    else if (m.init) rows.push({ name: dir.name, state: 'running', pid: m.init });
    else {
      const info = await run(['lxc-info', '-P', lxcPath, '-n', dir.name, '-s', '-p'], { allowFailure: true });
      const parsed = parseLxcInfo(info.stdout);
      rows.push({ name: dir.name, state: parsed?.state ?? 'unknown', pid: parsed?.pid ?? null });
    }
  }
  return observeNodes(rows, dirs);
}
