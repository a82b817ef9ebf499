import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, envName, stationNameFromHost, ConfigError } from '../../../../agent/config/load.ts';
import { tempDir, removeTempDirs } from '../../../helpers/temp-dirs.ts';

const dir = () => tempDir('st-config-');
test.after(removeTempDirs);

test('defaults follow the contract', () => {
  const d = dir();
  const c = loadConfig({ STATION_STATE_DIR: d, STATION_NAME: 'kitchen' });
  assert.is(c.httpPort, 8088);
  assert.is(c.domain, 'mesh.internal');
  assert.is(c.stateDir, d);
  assert.is(c.lxcPath, join(d, 'lxc'));
  assert.is(c.templateCache, join(d, 'templates'));
  assert.is(c.name, 'kitchen');
});

test('environment beats config.json, which beats defaults', () => {
  const d = dir();
  writeFileSync(join(d, 'config.json'), JSON.stringify({ httpPort: 9000, domain: 'home.internal' }));
  const c = loadConfig({ STATION_STATE_DIR: d, STATION_NAME: 'x', STATION_HTTP_PORT: '9100' });
  assert.is(c.httpPort, 9100);
  assert.is(c.domain, 'home.internal');
});

test('a bad value fails with one line naming the key', () => {
  const d = dir();
  try {
    loadConfig({ STATION_STATE_DIR: d, STATION_HTTP_PORT: 'abc' });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ConfigError);
    const message = (error as Error).message;
    assert.ok(message.includes('STATION_HTTP_PORT'), message);
    assert.not.ok(message.includes('\n'));
  }
  assert.throws(() => loadConfig({ STATION_STATE_DIR: d, STATION_HTTP_PORT: '70000' }), /STATION_HTTP_PORT: must be a whole number from 1 to 65535/);
  assert.throws(() => loadConfig({ STATION_STATE_DIR: d, STATION_LOG_LEVEL: 'loud' }), /STATION_LOG_LEVEL/);
  assert.throws(() => loadConfig({ STATION_STATE_DIR: d, STATION_NAME: 'Bad_Name' }), /STATION_NAME: must be a DNS label/);
});

test('config.json problems name the file and key', () => {
  const d = dir();
  writeFileSync(join(d, 'config.json'), JSON.stringify({ httpport: 1 }));
  assert.throws(() => loadConfig({ STATION_STATE_DIR: d }), /"httpport" is not a known setting/);
  writeFileSync(join(d, 'config.json'), JSON.stringify({ httpPort: 'x' }));
  assert.throws(() => loadConfig({ STATION_STATE_DIR: d }), /config.json "httpPort"/);
  writeFileSync(join(d, 'config.json'), '{ nope');
  assert.throws(() => loadConfig({ STATION_STATE_DIR: d }), /is not valid JSON/);
});

test('env names and host names', () => {
  assert.is(envName('httpPort'), 'STATION_HTTP_PORT');
  assert.is(envName('nodeSubnet'), 'STATION_NODE_SUBNET');
  assert.is(stationNameFromHost('Kitchen-Pi.lan'), 'kitchen-pi');
  assert.is(stationNameFromHost('___'), 'station');
});

test.run();
