import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseKernelConfig, moduleAvailability, parseModuleList } from '../../../../hardware/parsers/kernel-config.ts';

// Captured from this project's build machines (zcat /proc/config.gz): a VM kernel without modules or IPVS.
const vmConfig = parseKernelConfig(readFileSync(new URL('../../../fixtures/host/kernel-config-vm.txt', import.meta.url), 'utf8'));

test('parses set, module and unset options', () => {
  assert.is(vmConfig.get('CONFIG_BRIDGE_NETFILTER'), 'y');
  assert.is(vmConfig.get('CONFIG_IP_VS'), 'n');
  assert.is(vmConfig.get('CONFIG_MODULES'), 'n');
  assert.ok(vmConfig.size > 1000);
  const small = parseKernelConfig('CONFIG_A=m\nCONFIG_B="text"\n# CONFIG_C is not set\n# comment\n');
  assert.equal(
    [...small],
    [
      ['CONFIG_A', 'm'],
      ['CONFIG_B', 'text'],
      ['CONFIG_C', 'n'],
    ],
  );
});

test('module availability on the VM kernel: ip_vs missing, the rest built in', () => {
  const evidence = { config: vmConfig };
  assert.is(moduleAvailability('ip_vs', evidence), 'missing');
  assert.is(moduleAvailability('ip_vs_rr', evidence), 'missing');
  assert.is(moduleAvailability('br_netfilter', evidence), 'built-in');
  assert.is(moduleAvailability('overlay', evidence), 'built-in');
  assert.is(moduleAvailability('nf_nat', evidence), 'built-in');
});

test('module availability from module lists when config says m', () => {
  const config = parseKernelConfig('CONFIG_IP_VS=m\nCONFIG_OVERLAY_FS=m\n');
  const installed = parseModuleList('kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz\n');
  const loaded = parseModuleList('overlay 151552 0 - Live 0x0000000000000000\n');
  assert.is(moduleAvailability('ip_vs', { config, installed }), 'loadable');
  assert.is(moduleAvailability('overlay', { config, installed, loaded }), 'loaded');
  assert.is(moduleAvailability('ip_vs', { config, installed: new Set() }), 'missing');
  assert.is(moduleAvailability('ip_vs', {}), 'unknown');
});

test.run();
