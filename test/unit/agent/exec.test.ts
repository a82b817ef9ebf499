// The one command runner keeps secrets out of what it reports and what it hands down: strings the
// caller names as secrets never appear in an ExecError (message, JSON, stack, a pino log line),
// and children do not inherit the agent's balena keys or other secret variables unless asked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { exec, childEnvironment } from '../../../agent/exec.ts';
import { ExecError } from '../../../agent/errors.ts';
import { rejectsWith } from '../../helpers/rejects.ts';

const failing = (p: Promise<unknown>) => rejectsWith(p, ExecError);

/** Everything a person could read about the error: message, JSON, stack, and what pino logs. */
function everythingSaidAbout(error: Error): string {
  let logged = '';
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        logged += String(chunk);
        done();
      },
    }),
  );
  log.warn({ err: error }, 'command failed');
  return [error.message, JSON.stringify(error), error.stack ?? '', logged].join('\n');
}

test('a secret on the command line and on stdin is in no part of the ExecError (message, JSON, stack, log)', async () => {
  const argvSecret = 'argv-secret-Wz9q';
  const stdinSecret = 'stdin-secret-Kp3v';
  // The program echoes both to stderr and stdout and fails, the worst case: its own output carries them.
  const error = await failing(
    exec(['sh', '-c', 'echo "joining with $1" >&2; cat; echo "got it" >&2; exit 3', 'sh', argvSecret], {
      input: `${stdinSecret}\n`,
      secrets: [argvSecret, stdinSecret],
    }),
  );
  const said = everythingSaidAbout(error);
  assert.not.match(said, argvSecret);
  assert.not.match(said, stdinSecret);
  assert.match(error.message, /sh exited with 3: joining with \*\*\* \| got it/);
  assert.equal(error.argv, ['sh', '-c', error.argv[2], 'sh', '***']);
  assert.is(error.stdout, '***\n');
});

test('a program that cannot start: the secret is not in the ExecError either', async () => {
  const error = await failing(exec(['/nonexistent/tool-secret-Qx1', 'x'], { secrets: ['tool-secret-Qx1'] }));
  assert.not.match(everythingSaidAbout(error), 'tool-secret-Qx1');
});

test('without secrets named, nothing is hidden (the redaction is opt-in, not a guess)', async () => {
  const error = await failing(exec(['sh', '-c', 'echo plain-words >&2; exit 1']));
  assert.match(error.message, /plain-words/);
});

test('a child does not inherit BALENA_API_KEY, the supervisor key or other secret variables; ordinary ones pass', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, {
    BALENA_API_KEY: 'balena-key-1',
    BALENA_SUPERVISOR_API_KEY: 'supervisor-key-2',
    BALENA_SUPERVISOR_ADDRESS: 'http://127.0.0.1:48484',
    RESIN_SUPERVISOR_API_KEY: 'old-name-key-3',
    STATION_TOKEN: 'station-token-4',
    SOME_PASSWORD: 'pw-5',
    STATION_NAME_FOR_TEST: 'den',
  });
  try {
    const { stdout } = await exec(['env']);
    for (const leaked of ['balena-key-1', 'supervisor-key-2', 'old-name-key-3', 'station-token-4', 'pw-5', '48484']) assert.not.match(stdout, leaked);
    assert.match(stdout, /^STATION_NAME_FOR_TEST=den$/m);
    assert.match(stdout, /^PATH=/m);
    assert.match(stdout, /^LC_ALL=C$/m);
    // What a caller passes on purpose reaches the child, and a named inherited secret passes when asked for.
    const explicit = await exec(['env'], { env: { STATION_TOKEN: 'given-on-purpose' }, passSecretEnv: ['BALENA_API_KEY'] });
    assert.match(explicit.stdout, /^STATION_TOKEN=given-on-purpose$/m);
    assert.match(explicit.stdout, /^BALENA_API_KEY=balena-key-1$/m);
    assert.not.match(explicit.stdout, 'supervisor-key-2');
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
});

test('childEnvironment is the same rule for the programs started without exec.ts (nebula, dnsmasq)', () => {
  const env = childEnvironment({ PATH: '/bin', BALENA_DEVICE_UUID: 'u', HOME: '/root', GITHUB_TOKEN: 't', NODE_EXTRA_CA_CERTS: '/ca.pem' });
  assert.equal(env, { PATH: '/bin', HOME: '/root', NODE_EXTRA_CA_CERTS: '/ca.pem' });
});

test.run();
