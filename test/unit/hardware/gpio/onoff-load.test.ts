// onoff's native addon (epoll) must load under the Node the agent runs (24): node-gyp has to have
// built it against Node 24's headers. Without GPIO sysfs, onoff says its lines are not accessible.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { loadOnoff } from '../../../../hardware/gpio/lines.ts';

test('the epoll native addon loads under this Node', () => {
  const epoll = createRequire(import.meta.url)('epoll') as { Epoll: { EPOLLPRI: number } };
  assert.type(epoll.Epoll, 'function');
  assert.type(epoll.Epoll.EPOLLPRI, 'number');
  assert.ok(process.versions.node.startsWith('24.'), `running under Node ${process.versions.node}`);
});

test('onoff loads and reports whether GPIO lines are accessible here', async () => {
  const { Gpio } = loadOnoff();
  const { existsSync } = await import('node:fs');
  assert.is(Gpio.accessible, existsSync('/sys/class/gpio/export'));
});

test.run();
