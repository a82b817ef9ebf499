import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateSpec, applyPatch, checkVolumePath } from '../../../../agent/nodes/spec.ts';
import { ValidationError } from '../../../../agent/errors.ts';

function refused(input: unknown, pattern: RegExp): void {
  try {
    validateSpec(input);
  } catch (error) {
    assert.instance(error, ValidationError);
    assert.is((error as ValidationError).code, 'INVALID_SPEC');
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(input)}`);
}

test('a minimal spec gets the documented defaults', () => {
  const spec = validateSpec({ name: 'web' });
  assert.equal(spec, {
    name: 'web',
    template: 'busybox',
    profile: 'plain',
    resources: {},
    volumes: [],
    modules: [],
    env: {},
    autostart: true,
    labels: {},
    disk: { snapshotSeconds: 60, backupSeconds: 600, copies: 3 },
  });
});

test('a full spec is kept as given', () => {
  const input = {
    name: 'web-1',
    template: 'debian',
    profile: 'nesting',
    resources: { cpus: 0.5, memoryMB: 256 },
    volumes: [{ name: 'data', path: '/srv/data', class: 'shared' }],
    modules: [
      { name: 'tools', packages: ['curl'] },
      { name: 'app', run: 'httpd -f' },
    ],
    env: { GREETING: 'hi' },
    autostart: false,
    labels: { room: 'kitchen', 'support/contact': 'ann@example.org' },
    network: { ingress: [{ from: 'lan', ports: [80] }] },
  };
  const spec = validateSpec(input);
  assert.equal(spec.volumes, input.volumes);
  assert.equal(spec.network, input.network);
  assert.equal(spec.resources, { cpus: 0.5, memoryMB: 256 });
  assert.is(spec.autostart, false);
});

test('bad names are refused', () => {
  for (const name of ['', 'Web', 'a_b', '-web', 'web-', 'x'.repeat(64), 'a.b', 'web!']) refused({ name }, /name/);
});

test('unknown template and profile are refused', () => {
  refused({ name: 'a', template: 'alpine' }, /template/);
  refused({ name: 'a', profile: 'privileged' }, /profile/);
});

test('negative, zero and non-integer memory and CPUs are refused', () => {
  refused({ name: 'a', resources: { memoryMB: -1 } }, /memoryMB/);
  refused({ name: 'a', resources: { memoryMB: 0 } }, /memoryMB/);
  refused({ name: 'a', resources: { memoryMB: 12.5 } }, /memoryMB/);
  refused({ name: 'a', resources: { cpus: 0 } }, /cpus/);
  refused({ name: 'a', resources: { cpus: -2 } }, /cpus/);
  refused({ name: 'a', resources: { memoryMB: '64' } }, /memoryMB/);
});

test('unknown fields are refused at every level', () => {
  refused({ name: 'a', colour: 'red' }, /spec/);
  refused({ name: 'a', resources: { disk: 5 } }, /resources/);
  refused({ name: 'a', volumes: [{ name: 'v', path: '/v', size: 1 }] }, /volumes/);
  refused({ name: 'a', modules: [{ name: 'm', run: 'x', restart: 'always' }] }, /modules/);
  refused({ name: 'a', network: { egress: [], firewall: true } }, /network/);
});

test('duplicate volume names, volume paths and module names are refused', () => {
  /** A spec whose list holds `first` then `second`: the second repeats something of the first. */
  const twoOf = (list: 'volumes' | 'modules', first: object, second: object) => ({ name: 'a', [list]: [first, second] });
  refused(twoOf('volumes', { name: 'v', path: '/a' }, { name: 'v', path: '/b' }), /duplicate volume name: v/);
  refused(twoOf('volumes', { name: 'v', path: '/a' }, { name: 'w', path: '/a' }), /same path/);
  refused(twoOf('modules', { name: 'm', run: 'a' }, { name: 'm', run: 'b' }), /duplicate module name: m/);
});

test('volume paths must be absolute, normalised, without ".." and not over system directories', () => {
  refused({ name: 'a', volumes: [{ name: 'v', path: '/srv/../etc' }] }, /\.\./);
  refused({ name: 'a', volumes: [{ name: 'v', path: 'data' }] }, /absolute/);
  refused({ name: 'a', volumes: [{ name: 'v', path: '/' }] }, /system directory/);
  refused({ name: 'a', volumes: [{ name: 'v', path: '/proc' }] }, /system directory/);
  assert.is(checkVolumePath('/srv//x'), 'must be normalised (no "." segments, no "//" or trailing "/")');
  assert.is(checkVolumePath('/srv/x/'), 'must be normalised (no "." segments, no "//" or trailing "/")');
  assert.is(checkVolumePath('/srv/data'), undefined);
});

test('modules need run or packages, and packages need the debian template', () => {
  refused({ name: 'a', modules: [{ name: 'm' }] }, /needs "run" or "packages"/);
  refused({ name: 'a', modules: [{ name: 'm', packages: ['curl'] }] }, /debian template/);
});

test('env and label keys are checked', () => {
  refused({ name: 'a', env: { 'BAD-KEY': 'x' } }, /env/);
  refused({ name: 'a', labels: { room: 5 } }, /labels/);
});

test('env values and module commands with control characters are refused before anything is made', () => {
  // a newline would end the line of the unit file or script the value is written into
  for (const bad of ['x\ny', 'x\ry', 'x\u0000y', 'x\u001b[31m', 'x\u007fy', 'x\u0085y']) {
    refused({ name: 'a', env: { A: bad } }, /env\.A must not contain control characters \(only tab is allowed\): /);
  }
  refused({ name: 'a', modules: [{ name: 'm', run: 'echo a\necho b' }] }, /modules\[m\]\.run must not contain control characters/);
  const spec = validateSpec({ name: 'web' });
  assert.throws(() => applyPatch(spec, { env: { A: 'a\nExecStartPre=/bin/true' } }), /env\.A must not contain control characters/);
  // tab and every printable character are fine
  const ok = validateSpec({
    name: 'a',
    env: { A: 'tab\there "quoted" \\ back $HOME 100% ünï ✓' },
    modules: [{ name: 'm', run: 'printf "%s\\n" "$A"' }],
  });
  assert.is(ok.env.A, 'tab\there "quoted" \\ back $HOME 100% ünï ✓');
});

test('a patch changes the allowed fields and is validated like a spec', () => {
  const spec = validateSpec({ name: 'web', labels: { room: 'hall' } });
  const next = applyPatch(spec, { labels: { room: 'attic' }, resources: { memoryMB: 128 }, autostart: false });
  assert.equal(next.labels, { room: 'attic' });
  assert.equal(next.resources, { memoryMB: 128 });
  assert.is(next.autostart, false);
  assert.equal(spec.labels, { room: 'hall' }, 'the stored spec is not changed in place');
  assert.throws(
    () => applyPatch(spec, { template: 'debian' }),
    (e: Error) => e instanceof ValidationError,
  );
  assert.throws(
    () => applyPatch(spec, {}),
    (e: Error) => e instanceof ValidationError,
  );
  assert.throws(() => applyPatch(spec, { modules: [{ name: 'x', packages: ['curl'] }] }), /debian template/);
});

test.run();
