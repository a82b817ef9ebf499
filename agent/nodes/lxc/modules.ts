// Compute Modules as files inside the node. A module with `run` is a supervised command: restarted
// when it dies, its output appended to the node's module log (/var/log/station/modules.log, a host
// directory bind-mounted into the node, so the agent reads it without entering the node).
//   busybox: a wrapper script per module and an `::respawn:` line in /etc/inittab
//   debian : a systemd unit per module with Restart=always and Environment= from env
import { ValidationError } from '../../errors.ts';
import type { ModuleSpec } from '../driver.ts';
import { controlCharacterProblem } from '../spec.ts';

export const MODULE_LOG = '/var/log/station/modules.log';

export interface RootfsFile {
  path: string;
  content: string;
  mode?: number;
}

const MODULE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkModule(module: ModuleSpec, env: Record<string, string>): void {
  if (!MODULE_NAME.test(module.name)) throw new ValidationError('INVALID_REQUEST', `invalid module name ${JSON.stringify(module.name)}`);
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_NAME.test(key)) throw new ValidationError('INVALID_REQUEST', `invalid environment variable name ${JSON.stringify(key)}`);
    // checked again here (validateSpec refuses it first): a spec stored by an older agent may hold one
    const problem = controlCharacterProblem(key, value);
    if (problem) throw new ValidationError('INVALID_REQUEST', problem);
  }
  if (module.run !== undefined && (module.run.includes('\n') || !module.run.trim()))
    throw new ValidationError('INVALID_REQUEST', `module ${module.name}: run must be one non-empty line`);
  const runProblem = module.run === undefined ? undefined : controlCharacterProblem(`module ${module.name}: run`, module.run);
  if (runProblem) throw new ValidationError('INVALID_REQUEST', runProblem);
}

/** POSIX shell single-quoting. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function busyboxModuleFiles(modules: ModuleSpec[], env: Record<string, string>, baseInittab: string): RootfsFile[] {
  const runnable = modules.filter((m) => m.run !== undefined);
  const files: RootfsFile[] = [];
  for (const module of modules) {
    checkModule(module, env);
    if (module.packages?.length)
      throw new ValidationError('PACKAGES_NEED_DEBIAN', `module ${module.name}: packages need the debian template (busybox has no package manager)`);
  }
  for (const module of runnable) {
    const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    files.push({
      path: `/etc/station/modules/${module.name}`,
      mode: 0o755,
      content: [
        '#!/bin/sh',
        `# Station module ${module.name}: started (and restarted when it dies) by init from /etc/inittab.`,
        ...exports,
        `echo "[station] module ${module.name} starting" >> ${MODULE_LOG}`,
        `exec /bin/sh -c ${shellQuote(module.run!)} >> ${MODULE_LOG} 2>&1 < /dev/null`,
        '',
      ].join('\n'),
    });
  }
  const kept = baseInittab.split('\n').filter((l) => !l.includes('/etc/station/modules/'));
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  const respawn = runnable.map((m) => `::respawn:/etc/station/modules/${m.name}`);
  files.push({ path: '/etc/inittab', mode: 0o644, content: `${[...kept, ...respawn].join('\n')}\n` });
  return files;
}

// Environment=: quotes and backslashes are C-style escapes, % starts a specifier; $ is literal there.
const envEscape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
// ExecStart=: the same, and $ starts an environment variable reference, so $$ stands for one $.
const execEscape = (v: string): string => envEscape(v).replace(/\$/g, '$$$$');

export const unitName = (module: string): string => `station-module-${module}.service`;

export function debianModuleFiles(modules: ModuleSpec[], env: Record<string, string>): RootfsFile[] {
  const files: RootfsFile[] = [];
  for (const module of modules) {
    checkModule(module, env);
    if (module.run === undefined) continue;
    const environment = Object.entries(env).map(([k, v]) => `Environment="${k}=${envEscape(v)}"`);
    files.push({
      path: `/etc/systemd/system/${unitName(module.name)}`,
      mode: 0o644,
      content: [
        '[Unit]',
        `Description=Station module ${module.name}`,
        'After=network.target',
        '',
        '[Service]',
        ...environment,
        `ExecStartPre=/bin/sh -c 'echo "[station] module ${module.name} starting" >> ${MODULE_LOG}'`,
        `ExecStart=/bin/sh -c ${systemdShellArg(module.run)}`,
        'Restart=always',
        'RestartSec=1',
        `StandardOutput=append:${MODULE_LOG}`,
        `StandardError=append:${MODULE_LOG}`,
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    });
  }
  return files;
}

// systemd parses ExecStart itself: double quotes group, backslash escapes, % and $ are specifiers.
function systemdShellArg(command: string): string {
  return `"${execEscape(command)}"`;
}

/** Symlinks that enable the module units (what `systemctl enable` would make). */
export function debianModuleLinks(modules: ModuleSpec[]): { path: string; target: string }[] {
  return modules
    .filter((m) => m.run !== undefined)
    .map((m) => ({
      path: `/etc/systemd/system/multi-user.target.wants/${unitName(m.name)}`,
      target: `/etc/systemd/system/${unitName(m.name)}`,
    }));
}
