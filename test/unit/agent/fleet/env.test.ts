import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fleetEnvironment } from '../../../../agent/fleet/env.ts';

test('off without the supervisor API variables', () => {
  assert.equal(fleetEnvironment({}), null);
  assert.equal(fleetEnvironment({ BALENA_SUPERVISOR_ADDRESS: 'http://127.0.0.1:48484' }), null);
  assert.equal(fleetEnvironment({ BALENA_SUPERVISOR_API_KEY: 'k' }), null);
});

test('the lock defaults to /tmp/balena/updates.lock, the hand-over file sits next to it', () => {
  const env = fleetEnvironment({ BALENA_SUPERVISOR_ADDRESS: 'http://127.0.0.1:48484/', BALENA_SUPERVISOR_API_KEY: 'k' })!;
  assert.equal(env.supervisorAddress, 'http://127.0.0.1:48484');
  assert.equal(env.lockPath, '/tmp/balena/updates.lock');
  assert.equal(env.handoverPath, '/tmp/balena/handover-complete');
  assert.equal(env.apiUrl, null);
});

test('BALENA_APP_LOCK_PATH moves both; API variables are read', () => {
  const env = fleetEnvironment({
    BALENA_SUPERVISOR_ADDRESS: 'http://127.0.0.1:48484',
    BALENA_SUPERVISOR_API_KEY: 'k',
    BALENA_APP_LOCK_PATH: '/run/x/updates.lock',
    BALENA_API_URL: 'https://api.example/',
    BALENA_API_KEY: 'dk',
    BALENA_DEVICE_UUID: 'abc',
    BALENA_APP_ID: '12',
    BALENA_SERVICE_NAME: 'station',
  })!;
  assert.equal(env.handoverPath, '/run/x/handover-complete');
  assert.equal(env.apiUrl, 'https://api.example');
  assert.equal(env.deviceUuid, 'abc');
  assert.equal(env.appId, '12');
});

test('a supervisor address that is not a URL is a clear error', () => {
  assert.throws(() => fleetEnvironment({ BALENA_SUPERVISOR_ADDRESS: 'not a url', BALENA_SUPERVISOR_API_KEY: 'k' }), /BALENA_SUPERVISOR_ADDRESS is not a URL/);
});

test.run();
