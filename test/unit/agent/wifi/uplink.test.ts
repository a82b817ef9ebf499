// "Connected" is any way out but the onboarding radio: checked on nmcli's recorded device lists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseDevices } from '../../../../hardware/wifi/nmcli-parse.ts';
import { otherUplink } from '../../../../agent/wifi/uplink.ts';

const devices = (name: string) => parseDevices(readFileSync(new URL(`../../../fixtures/nmcli/${name}`, import.meta.url), 'utf8'));

test('recorded: ethernet "connected" is a way out; lo "connected (externally)" and "connecting" devices are not', () => {
  assert.is(otherUplink(devices('device-status-wired.stdout'), 'wlan0', []), 'h11a');
  const onlyLoopbackAndPending = devices('device-status-wired.stdout').filter((d) => d.device !== 'h11a');
  assert.is(otherUplink(onlyLoopbackAndPending, 'wlan0', []), null);
});

test('the radio itself is not "another" way out, neither as a device nor as a default route', () => {
  assert.is(otherUplink(devices('constructed/device-status-wifi-connected.stdout'), 'wlan0', ['wlan0']), null);
});

test('a default route counts when nmcli shows the interface unmanaged (recorded list); not one through the node bridge', () => {
  assert.is(otherUplink(devices('device-status.stdout'), 'wlan0', ['stpgcapa']), 'stpgcapa');
  const withBridge = [...devices('device-status.stdout'), { device: 'stbr0', type: 'bridge', state: 'unmanaged', connection: null }];
  assert.is(otherUplink(withBridge, 'wlan0', ['stbr0']), null);
});

test.run();
