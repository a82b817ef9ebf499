// LxcDriver: makes Disposable Nodes real with the lxc-* tools, always with `-P lxcPath` (one
// lxcpath per station). Containers are started daemonized (lxc-start -d: the monitor re-parents
// to init in its own session), so nodes keep running when the agent stops or is killed.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { Runner } from '../../exec.ts';
import type { Logger } from '../../log.ts';
import type {
  NodeBuild,
  NodeDriver,
  NodeExecOptions,
  NodeExecResult,
  NodeNetworkSetup,
  NodeStats,
  ObservedNode,
  ProfileName,
  TemplateName,
} from '../driver.ts';
import { prepareHostNetwork } from '../host-network/prepare.ts';
import { buildIntoCache, isCached, templatePaths, withTemplateLock } from '../templates/cache.ts';
import { buildBusybox } from '../templates/busybox.ts';
import { buildDebian } from '../templates/debian.ts';
import { parseMounts } from '../../../hardware/parsers/mounts.ts';
import { parseProcCgroup, parseStats, statFiles } from './cgroup-stats.ts';
import { renderContainerConfig, seccompPolicyPath, type RootfsSpec } from './config.ts';
import { readHostFacts } from './host-facts.ts';
import { cgroupMountState, restoreCgroupMounts } from './cgroup-mounts.ts';
import { assertNodeName, vethName } from './names.ts';
import { fetchPackages, installPackages } from './packages.ts';
import { writeNodeFiles } from './rootfs-files.ts';
import { cloneTree } from '../../storage/btrfs-fs.ts';
import { readContainerDirs, readNodes } from './observe.ts';
import type { ContainerDirEntry } from './parse-ls.ts';
import { printableLog, tailLines } from './tail.ts';
import { readUntrustedTail } from './untrusted-file.ts';

export interface LxcDriverOptions {
  lxcPath: string;
  templateCache: string;
  /** runs lxc-*, ip, nft, sysctl: in the station's network namespace */
  run: Runner;
  /** runs package downloads on the host (needs the mirror); defaults to `run` */
  hostRun?: Runner;
  log: Logger;
}

import { PARTIAL_MARKER } from './partial.ts';

export { PARTIAL_MARKER };
const BUILD_FILE = 'station-build.json';
const CLEAN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Overlay clones are instant; nested runtimes (dockerd) fail in them, so those profiles get a full copy. */
export const cloneKind = (profile: ProfileName): 'overlay' | 'copy' => (profile === 'plain' ? 'overlay' : 'copy');

export class LxcDriver implements NodeDriver {
  readonly lxcPath: string;
  readonly templateCache: string;
  private readonly run: Runner;
  private readonly hostRun: Runner;
  private readonly log: Logger;
  private readonly building = new Map<TemplateName, Promise<void>>();

  constructor(options: LxcDriverOptions) {
    // LXC names the lxcpath in its monitors' command lines exactly as given to -P
    this.lxcPath = resolve(options.lxcPath);
    this.templateCache = options.templateCache;
    this.run = options.run;
    this.hostRun = options.hostRun ?? options.run;
    this.log = options.log;
  }

  private P(): string[] {
    return ['-P', this.lxcPath];
  }

  private dir(name: string): string {
    return join(this.lxcPath, name);
  }

  async capability(): Promise<{ available: boolean; reason: string }> {
    const version = await this.run(['lxc-start', '--version'], { allowFailure: true }).catch((e: Error) => ({
      exitCode: 127,
      stdout: '',
      stderr: e.message,
    }));
    if (version.exitCode !== 0)
      return {
        available: false,
        reason: `lxc-start is not usable (${version.stderr.trim() || 'not installed'}): Disposable Nodes are off`,
      };
    const cgroups = await cgroupMountState();
    if (cgroups === 'missing') return { available: false, reason: 'LXC is installed but no cgroup hierarchy is mounted: node limits and stats cannot work' };
    const note = cgroups === 'restorable' ? " (the cgroup mounts hidden by `ip netns exec` are mounted again in the agent's mount namespace at prepare)" : '';
    return { available: true, reason: `LXC ${version.stdout.trim()} runs nodes under ${this.lxcPath}${note}` };
  }

  async prepare(network: NodeNetworkSetup): Promise<void> {
    await mkdir(this.lxcPath, { recursive: true, mode: 0o755 });
    if ((await restoreCgroupMounts(this.run)) === 'missing') this.log.warn('no cgroup hierarchy is mounted: nodes run without limits and stats');
    const { changed } = await prepareHostNetwork(this.run, network);
    if (changed.length) this.log.info({ changed }, 'node network prepared');
  }

  ensureTemplate(template: TemplateName, progress: (message: string) => void = () => {}): Promise<void> {
    // one build per template per process; other processes wait on the cache's lock file
    const running = this.building.get(template);
    if (running) return running;
    const work = (async () => {
      if (await isCached(this.templateCache, template)) return;
      await withTemplateLock(this.templateCache, template, async () => {
        if (await isCached(this.templateCache, template)) return;
        progress(`template ${template}: building into ${this.templateCache} (once per machine)`);
        const started = Date.now();
        const builder = template === 'debian' ? buildDebian : buildBusybox;
        await buildIntoCache(this.templateCache, template, template === 'debian' ? 'mmdebstrap' : 'lxc-create -t busybox', (staging) =>
          builder(staging, this.hostRun, progress),
        );
        progress(`template ${template}: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      });
    })().finally(() => this.building.delete(template));
    this.building.set(template, work);
    return work;
  }

  async list(): Promise<ObservedNode[]> {
    return readNodes(this.lxcPath, this.run, await readContainerDirs(this.lxcPath));
  }

  async inspect(name: string): Promise<ObservedNode | null> {
    assertNodeName(name);
    const dir = this.dir(name);
    if (
      !(await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      return null;
    const has = (file: string) =>
      stat(join(dir, file)).then(
        () => true,
        () => false,
      );
    const entry: ContainerDirEntry = { name, hasConfig: await has('config'), hasPartialMarker: await has(PARTIAL_MARKER) };
    return (await readNodes(this.lxcPath, this.run, [entry], name))[0] ?? null;
  }

  async create(build: NodeBuild, progress: (message: string) => void = () => {}): Promise<void> {
    assertNodeName(build.name);
    await this.assertVethFree(build.name);
    await this.ensureTemplate(build.template, progress);
    await mkdir(this.lxcPath, { recursive: true });
    const dir = this.dir(build.name);
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError('NODE_EXISTS', `node ${build.name} already exists on this station`);
      throw error;
    }
    try {
      // The marker goes in before anything else and comes out last: a create killed at any
      // point leaves a directory list() reports as partial (one without config counts too).
      await writeFile(join(dir, PARTIAL_MARKER), `${process.pid}\n`);
      await this.assemble(build, dir, progress);
      await rm(join(dir, PARTIAL_MARKER));
    } catch (error) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * Two hashed veth names can meet (4 hex digits of a hash): a second node on one veth could not
   * run, and the anti-spoofing rules bind each node's address to its veth, so it is refused.
   */
  private async assertVethFree(name: string): Promise<void> {
    const veth = vethName(name);
    const other = (await readContainerDirs(this.lxcPath)).find((d) => d.name !== name && vethName(d.name) === veth);
    if (other)
      throw new ConflictError(
        'NODE_VETH_TAKEN',
        `node name ${name} gives the host interface ${veth}, which node ${other.name} already has: choose another name`,
      );
  }

  private async assemble(build: NodeBuild, dir: string, progress: (message: string) => void): Promise<void> {
    const template = templatePaths(this.templateCache, build.template);
    const kind = cloneKind(build.profile);
    let rootfs: RootfsSpec;
    let method: string = kind;
    const started = Date.now();
    if (kind === 'overlay') {
      rootfs = { kind: 'overlay', lower: template.rootfs, upper: join(dir, 'delta0') };
      await mkdir(rootfs.upper);
    } else {
      rootfs = { kind: 'dir', path: join(dir, 'rootfs') };
      method = await cloneTree(this.run, template.rootfs, rootfs.path);
    }
    progress(`${build.name}: ${method} clone of ${build.template} in ${Date.now() - started} ms`);
    const logDir = join(dir, 'logs');
    await mkdir(logDir);
    const host = await readHostFacts();
    const paths = { dir, rootfs, logDir, consoleLog: join(dir, 'console.log') };
    const config = renderContainerConfig(build, paths, host);
    for (const warning of config.warnings) {
      progress(`${build.name}: ${warning}`);
      this.log.warn({ node: build.name }, warning);
    }
    await writeNodeFiles(build, rootfs, template.rootfs);
    const packages = [...new Set(build.modules.flatMap((m) => m.packages ?? []))];
    if (packages.length) {
      if (build.template !== 'debian') throw new ValidationError('PACKAGES_NEED_DEBIAN', 'package modules need the debian template');
      const debs = await fetchPackages(this.hostRun, template.rootfs, join(this.templateCache, 'debs'), packages, progress);
      progress(`${build.name}: installing ${debs.length} packages`);
      await installPackages(this.run, rootfs, dir, debs);
      await rm(join(dir, 'merged'), { recursive: true, force: true });
      await rm(join(dir, 'olwork-install'), { recursive: true, force: true });
    }
    await writeFile(join(dir, BUILD_FILE), `${JSON.stringify(build, null, 2)}\n`);
    // the config names the node's seccomp policy: LXC refuses to start the node without it
    await writeFile(seccompPolicyPath(paths), config.seccomp);
    await writeFile(join(dir, 'config.tmp'), config.text);
    await rename(join(dir, 'config.tmp'), join(dir, 'config'));
  }

  private async mustExist(name: string): Promise<ObservedNode> {
    const node = await this.inspect(name);
    if (!node) throw new NotFoundError('NODE_NOT_FOUND', `node ${name} does not exist on this station`);
    if (node.partial) throw new ConflictError('NODE_PARTIAL', `node ${name} was not completely created; destroy and create it again`);
    return node;
  }

  async start(name: string): Promise<void> {
    const node = await this.mustExist(name);
    if (node.state === 'running') return;
    const logFile = join(this.dir(name), 'lxc.log');
    // lxc-start -d itself waits until the container is RUNNING (or reports that it failed)
    await this.run(['lxc-start', ...this.P(), '-n', name, '-d', '-o', logFile, '-l', 'WARN'], { timeoutMs: 60_000 });
    if ((await this.inspect(name))?.state !== 'running') {
      await this.run(['lxc-wait', ...this.P(), '-n', name, '-s', 'RUNNING', '-t', '30'], { timeoutMs: 35_000 });
    }
  }

  async stop(name: string, options: { timeoutSeconds: number }): Promise<void> {
    const node = await this.mustExist(name);
    if (node.state === 'stopped') return;
    const timeout = Math.max(0, Math.floor(options.timeoutSeconds));
    if (timeout > 0) {
      await this.run(['lxc-stop', ...this.P(), '-n', name, '-t', String(timeout)], {
        allowFailure: true,
        timeoutMs: (timeout + 15) * 1000,
      });
      if ((await this.inspect(name))?.state === 'stopped') return;
      this.log.info({ node: name, timeoutSeconds: timeout }, 'graceful stop timed out; killing');
    }
    await this.run(['lxc-stop', ...this.P(), '-n', name, '-k'], { allowFailure: true, timeoutMs: 30_000 });
    const after = await this.inspect(name);
    if (after && after.state !== 'stopped') throw new ConflictError('NODE_STOP_FAILED', `node ${name} is still ${after.state} after a forced stop`);
  }

  async destroy(name: string): Promise<void> {
    const node = await this.inspect(name);
    if (!node) return;
    if (node.state !== 'stopped') await this.run(['lxc-stop', ...this.P(), '-n', name, '-k'], { allowFailure: true, timeoutMs: 30_000 });
    if (
      await stat(join(this.dir(name), 'config')).then(
        () => true,
        () => false,
      )
    ) {
      await this.run(['lxc-destroy', ...this.P(), '-n', name], { allowFailure: true, timeoutMs: 600_000 });
    }
    // a partial node may have no config LXC understands: remove what is left by hand
    await rm(this.dir(name), { recursive: true, force: true });
  }

  async exec(name: string, command: string[], options: NodeExecOptions = {}): Promise<NodeExecResult> {
    const node = await this.mustExist(name);
    if (node.state !== 'running') throw new ConflictError('NODE_NOT_RUNNING', `node ${name} is ${node.state}; start it first`);
    if (!command.length) throw new ValidationError('INVALID_REQUEST', 'exec needs a command');
    const argv = ['lxc-attach', ...this.P(), '-n', name, '--clear-env', '-v', `PATH=${CLEAN_PATH}`, '-v', 'HOME=/root', '-v', 'LANG=C.UTF-8', '--', ...command];
    const out = await this.run(argv, { ...options, allowFailure: true, timeoutMs: options.timeoutMs ?? 60_000 });
    return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
  }

  async stats(name: string): Promise<NodeStats | null> {
    const node = await this.inspect(name);
    if (node?.state !== 'running' || !node.pid) return null;
    const procCgroup = await readFile(`/proc/${node.pid}/cgroup`, 'utf8').catch(() => null);
    if (procCgroup === null) return null;
    const files = statFiles(parseMounts(await readFile('/proc/self/mounts', 'utf8')), parseProcCgroup(procCgroup));
    const read = (path: string | null) => (path ? readFile(path, 'utf8').catch(() => null) : Promise.resolve(null));
    const [cpu, memory, memoryLimit, pids] = await Promise.all([read(files.cpu), read(files.memory), read(files.memoryLimit), read(files.pids)]);
    return parseStats({ cpu, memory, memoryLimit, pids });
  }

  async logs(name: string, options: { lines: number }): Promise<string> {
    assertNodeName(name);
    const dir = this.dir(name);
    if (
      !(await stat(dir).then(
        () => true,
        () => false,
      ))
    )
      throw new NotFoundError('NODE_NOT_FOUND', `node ${name} does not exist on this station`);
    // logs/ is the node's own (mounted into it, see untrusted-file.ts); console.log (what the node
    // printed) and lxc.log are written by LXC on the host, but are read the same bounded way
    const section = async (title: string, file: string, lines: number): Promise<string> => {
      const read = await readUntrustedTail(dir, file);
      if (read.kind === 'missing') return '';
      const text = read.kind === 'refused' ? `[station] ${file} not shown: ${read.reason}` : tailLines(printableLog(read.data), lines);
      return text ? `== ${title} ==\n${text}` : '';
    };
    const sections = [
      await section('init', 'console.log', options.lines),
      await section('modules', 'logs/modules.log', options.lines),
      await section('lxc', 'lxc.log', Math.min(options.lines, 20)),
    ];
    return sections.filter(Boolean).join('\n');
  }
}
