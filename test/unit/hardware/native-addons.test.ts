// Native addons are built for one Node ABI; a mismatch only shows when they load. Load them here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

test(`onoff's epoll addon loads in Node ${process.versions.node} (ABI ${process.versions.modules})`, async () => {
  const epoll = require('epoll') as { Epoll: unknown };
  assert.type(epoll.Epoll, 'function');
  const { Gpio } = await import('onoff');
  assert.type(Gpio.accessible, 'boolean');
});

test.run();
