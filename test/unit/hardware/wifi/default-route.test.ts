// A default route is a way out even when NetworkManager does not manage the interface; the kernel's
// unreachable IPv6 defaults on lo are not. Checked on recorded /proc/net tables.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { defaultRouteInterfaces } from '../../../../hardware/wifi/default-route.ts';

const dir = (name: string) => fileURLToPath(new URL(`../../../fixtures/default-route/${name}/`, import.meta.url));

test('an IPv4 default route (recorded): its interface', async () => {
  assert.equal(await defaultRouteInterfaces(dir('ipv4-default')), ['h11a']);
});

test('an IPv6 default route only (recorded): its interface', async () => {
  assert.equal(await defaultRouteInterfaces(dir('ipv6-default')), ['h11a']);
});

test("no default route (recorded; the IPv6 table still holds the kernel's unreachable defaults on lo): none", async () => {
  assert.equal(await defaultRouteInterfaces(dir('none')), []);
});

test('unreadable tables (no /proc/net here): none, not an error', async () => {
  assert.equal(await defaultRouteInterfaces('/nonexistent/proc/net'), []);
});

test.run();
