// The copy side of the disk benchmark, as a peer station serves it: `rclone serve restic
// --append-only --private-repos` with one htpasswd user, bound to an address on the loopback of the
// benchmark's network namespace (the agent's Restic talks to it from inside that namespace).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../../../agent/exec.ts';

export interface RestServer {
  process: ChildProcess;
  /** rest:http://USER:PASS@ADDR:PORT/USER/ (repositories go below it) */
  base: string;
  password: string;
}

/** Starts the server (files under `dir`: store/, htpasswd) and waits until it answers. */
export async function startRestServer(ns: string, addr: string, port: number, dir: string): Promise<RestServer> {
  const user = 'bench';
  const password = randomBytes(12).toString('hex');
  const hash = (await exec(['openssl', 'passwd', '-apr1', '-stdin'], { input: password, secrets: [password] })).stdout.trim();
  await writeFile(join(dir, 'htpasswd'), `${user}:${hash}\n`, { mode: 0o600 });
  const argv = ['ip', 'netns', 'exec', ns, 'rclone', 'serve', 'restic', '--config', '/dev/null', '--addr', `${addr}:${port}`];
  argv.push('--append-only', '--private-repos', '--htpasswd', join(dir, 'htpasswd'), join(dir, 'store'));
  const server = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  for (let i = 0; ; i++) {
    // 401 without credentials: it is up and checks them
    const r = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${addr}:${port}/`], { netns: ns, allowFailure: true });
    if (r.stdout === '401') break;
    if (i > 200 || server.exitCode !== null) {
      server.kill('SIGTERM');
      throw new Error(`rclone serve restic did not come up on ${addr}:${port}: ${stderr.trim() || `curl said ${r.stdout}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { process: server, base: `rest:http://${user}:${password}@${addr}:${port}/${user}/`, password };
}

export async function writeResticPassword(file: string): Promise<void> {
  await writeFile(file, randomBytes(24).toString('hex'), { mode: 0o600 });
}

/** Bytes of the regular files below `dir`, each inode once (directories and links not counted). */
export async function fileBytes(dir: string): Promise<{ bytes: number; files: number }> {
  const seen = new Set<number>();
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const info = await stat(join(entry.parentPath, entry.name));
    if (seen.has(info.ino)) continue;
    seen.add(info.ino);
    bytes += info.size;
  }
  return { bytes, files: seen.size };
}
