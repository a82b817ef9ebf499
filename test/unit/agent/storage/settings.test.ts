// The storage settings as an owner writes them: the driver by name, the pool file and size, with a
// one-line error naming the setting for a bad value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../../../agent/config/load.ts';
import { tempDir, removeTempDirs } from '../../../helpers/temp-dirs.ts';

test.after(removeTempDirs);

function refused(env: Record<string, string>, pattern: RegExp): void {
  try {
    loadConfig({ STATION_NAME: 'x', ...env });
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.match((error as Error).message, pattern);
    assert.not.ok((error as Error).message.includes('\n'));
    return;
  }
  assert.unreachable('accepted');
}

test('defaults: auto, the pool file in the state directory, its size derived', () => {
  const d = tempDir('st-storage-');
  const c = loadConfig({ STATION_STATE_DIR: d, STATION_NAME: 'x' });
  assert.is(c.storageDriver, 'auto');
  assert.is(c.storagePoolFile, join(d, 'storage', 'pool.img'));
  assert.is(c.storagePoolSizeMb, 0);
});

test('set from the environment or config.json', () => {
  const d = tempDir('st-storage-');
  writeFileSync(join(d, 'config.json'), JSON.stringify({ storageDriver: 'btrfs', storagePoolSizeMb: 4096 }));
  const c = loadConfig({ STATION_STATE_DIR: d, STATION_NAME: 'x', STATION_STORAGE_POOL_FILE: '/srv/pool.img' });
  assert.is(c.storageDriver, 'btrfs');
  assert.is(c.storagePoolSizeMb, 4096);
  assert.is(c.storagePoolFile, '/srv/pool.img');
  assert.is(loadConfig({ STATION_STATE_DIR: d, STATION_NAME: 'x', STATION_STORAGE_DRIVER: 'dir' }).storageDriver, 'dir');
});

test('an unknown driver or a pool too small for btrfs is refused, naming the setting', () => {
  const d = tempDir('st-storage-');
  refused({ STATION_STATE_DIR: d, STATION_STORAGE_DRIVER: 'zfs' }, /STATION_STORAGE_DRIVER: .*auto, dir, btrfs/);
  refused({ STATION_STATE_DIR: d, STATION_STORAGE_POOL_SIZE_MB: '64' }, /STATION_STORAGE_POOL_SIZE_MB: must be 0 \(derived\) or at least 128 MiB/);
  refused({ STATION_STATE_DIR: d, STATION_STORAGE_POOL_SIZE_MB: '-1' }, /STATION_STORAGE_POOL_SIZE_MB/);
});

test.run();
