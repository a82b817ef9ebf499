// No script of the project may stop without saying why. Each case breaks one step on purpose (a
// failing program put first on PATH, a missing directory, a bad option) and checks the message
// names what failed; a last check finds every shell script and requires the ERR trap in it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_PREFIX } from '../../helpers/run-prefix.ts';
import { removeTempDirs, tempDir } from '../../helpers/temp-dirs.ts';

test.after(removeTempDirs);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `script` as a file named test-script (so the trap can quote its lines) from the project root. */
function run(script: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), `${RUN_PREFIX}-script-`));
  try {
    writeFileSync(join(dir, 'test-script'), script);
    const out = spawnSync('bash', [join(dir, 'test-script')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: out.status, stdout: out.stdout, stderr: out.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A directory of fake programs (named as doubles of the real ones) to put first on PATH. */
function fakes(programs: Record<string, string>): string {
  const dir = tempDir(`${RUN_PREFIX}-fakes-`);
  for (const [name, body] of Object.entries(programs)) {
    writeFileSync(join(dir, name), `#!/bin/bash\n# test double of ${name}\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

test('a failing $(…) inside a step names the script, the step, the command, the status and the line', () => {
  const out = run('. scripts/lib/fail-loudly.sh\nstation_step "read the thing"\nthing=$(cat /nonexistent/thing)\necho "not reached"');
  assert.is(out.status, 1);
  assert.not.match(out.stdout, /not reached/);
  assert.match(out.stderr, /test-script: FAILED in step "read the thing": `thing=\$\(cat \/nonexistent\/thing\)` exited with status 1 \(.*:3\)/);
});

test('Node bootstrap: a registry that refuses is one clear line, with what npm said', () => {
  const bin = fakes({ npm: 'echo "npm ERR! code E403 registry refused" >&2; exit 1' });
  const tools = tempDir(`${RUN_PREFIX}-tools-`);
  const out = run('. scripts/lib/fail-loudly.sh\n. scripts/lib/node-env.sh\nensure_node\necho "not reached"', {
    PATH: `${bin}:/usr/bin:/bin`,
    STATION_TOOLS_DIR: join(tools, 'not-made-yet'),
  });
  assert.is(out.status, 1);
  assert.not.match(out.stdout, /not reached/);
  assert.match(out.stderr, /setup: could not install Node 24 from the npm registry \(is the registry reachable\?\); npm said:/);
  assert.match(out.stderr, /E403 registry refused/);
  assert.match(out.stderr, /FAILED: `ensure_node` returned status 1/);
});

test('Node bootstrap: an npm that installs nothing usable is named, not a silent exit (the fresh-box bug)', () => {
  const bin = fakes({ npm: 'exit 0' });
  const tools = tempDir(`${RUN_PREFIX}-tools-`);
  const out = run('. scripts/lib/fail-loudly.sh\n. scripts/lib/node-env.sh\nensure_node', {
    PATH: `${bin}:/usr/bin:/bin`,
    STATION_TOOLS_DIR: tools,
  });
  assert.is(out.status, 1);
  assert.match(out.stderr, /no Node binary with headers is under .*node_modules\/node/);
});

test('Node bootstrap: no npm and no apt-get says so', () => {
  // A PATH with only the basic tools the script uses: no node, npm or apt-get.
  const bin = tempDir(`${RUN_PREFIX}-bare-`);
  for (const tool of ['bash', 'sed', 'head', 'tail', 'mktemp', 'rm', 'mkdir', 'dirname', 'basename', 'cat']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  const out = run('. scripts/lib/fail-loudly.sh\n. scripts/lib/node-env.sh\nensure_node', {
    PATH: bin,
    STATION_TOOLS_DIR: join(bin, 'tools'),
  });
  assert.is(out.status, 1);
  assert.match(out.stderr, /setup: cannot install Node 24: this machine has no npm and no apt-get to install one/);
});

test('image: a failing mmdebstrap stops the build with the reason and the step', () => {
  const bin = fakes({ mmdebstrap: 'echo "E: cannot reach the mirror (test double)"; exit 3' });
  const build = tempDir(`${RUN_PREFIX}-image-`);
  const out = run('exec scripts/image/image --rootfs-only', { PATH: `${bin}:${process.env.PATH}`, STATION_IMAGE_BUILD: build });
  assert.is(out.status, 1);
  assert.match(out.stdout, /\[1\/4 .*\] Debian bookworm base/);
  assert.match(out.stdout + out.stderr, /E: cannot reach the mirror/);
  assert.match(out.stderr, /image: mmdebstrap failed/);
});

test('image-test, fresh-box and dev: missing inputs and bad options are named', () => {
  const build = tempDir(`${RUN_PREFIX}-image-`);
  const noImage = run('exec scripts/image/image-test', { STATION_IMAGE_BUILD: build });
  assert.is(noImage.status, 1);
  assert.match(noImage.stderr, /image: no image at .*station-amd64\.img: run \.\/scripts\/dev image first/);
  const badOption = run('exec scripts/fresh-box --frobnicate');
  assert.is(badOption.status, 2);
  assert.match(badOption.stderr, /fresh-box: unknown option --frobnicate/);
  const badCommand = run('exec scripts/dev frobnicate');
  assert.is(badCommand.status, 2);
  assert.match(badCommand.stderr, /dev: unknown command 'frobnicate'/);
  const badGroup = run('exec scripts/setup frobnicate');
  assert.is(badGroup.status, 2);
  assert.match(badGroup.stderr, /setup: unknown package group 'frobnicate'/);
});

/** Every file that is run as a program (a shebang) under scripts/, image/ and .ci/. */
function shellScripts(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const rel = join(dir, name);
      if (['node_modules', 'build'].includes(name)) continue;
      const stats = lstatSync(join(ROOT, rel));
      if (stats.isSymbolicLink()) continue; // e.g. the image's links into /var/lib/station, dangling here
      if (stats.isDirectory()) walk(rel);
      else if (/^#!.*\b(ba)?sh\b/.test(readFileSync(join(ROOT, rel), 'utf8').split('\n', 1)[0]!)) found.push(rel);
    }
  };
  for (const dir of ['scripts', 'image', '.ci']) walk(dir);
  return found.sort();
}

test('every shell script of the project carries the ERR trap', () => {
  const scripts = shellScripts();
  for (const expected of ['.ci/run', 'scripts/dev', 'scripts/setup', 'scripts/fresh-box', 'scripts/image/image', 'image/rootfs/usr/lib/station/firstboot']) {
    assert.ok(scripts.includes(expected), `${expected} is checked`);
  }
  for (const script of scripts) {
    const text = readFileSync(join(ROOT, script), 'utf8');
    assert.ok(text.startsWith('#!/usr/bin/env bash') || text.startsWith('#!/bin/bash'), `${script} runs under bash (the ERR trap is a bash feature)`);
    assert.match(text, /^\. .*fail-loudly\.sh"?$/m, `${script} sources fail-loudly.sh`);
  }
});

test.run();
