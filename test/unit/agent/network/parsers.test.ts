// Parsers of nft and ip output, tested on output captured from real runs (test/fixtures/network).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseNftCounters, nodeCounters } from '../../../../agent/network/counters.ts';
import { parseLanFacts } from '../../../../agent/network/lan-facts.ts';
import { bridgeFiltersCalled } from '../../../../agent/network/nft-driver.ts';
import { compileRuleset } from '../../../../agent/network/compile-nft.ts';
import type { CompileInput } from '../../../../agent/network/types.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/network/${name}`, import.meta.url), 'utf8');

test('counters of our table only, by name', () => {
  const all = parseNftCounters(fixture('nft-list-counters-all.json'));
  const ours = parseNftCounters(fixture('nft-list-counters-station.json'));
  assert.equal(all, ours, 'a counter of another table with the same name is ignored');
  assert.equal(all['n.web.eg.0'], { packets: 0, bytes: 0 });
  assert.ok('n.db.st.drop' in all && 'nat.masquerade' in all);
});

test('per-node sums: allowed and dropped per direction, connection counters listed but not summed', () => {
  const { counters } = compileRuleset(JSON.parse(fixture('golden/basic.input.json')) as CompileInput);
  const values = {
    'n.web.eg.1': { packets: 10, bytes: 1000 },
    'n.web.eg.drop': { packets: 2, bytes: 120 },
    'n.web.in.0': { packets: 5, bytes: 500 },
    'n.web.ex.0': { packets: 4, bytes: 400 },
    'n.web.ex.0.conn': { packets: 1, bytes: 60 },
    'n.web.st.drop': { packets: 3, bytes: 180 },
    'n.db.eg.drop': { packets: 99, bytes: 99 },
  };
  const web = nodeCounters('web', counters, values);
  assert.equal(web.egress, { allowed: { packets: 10, bytes: 1000 }, dropped: { packets: 5, bytes: 300 } });
  assert.equal(web.ingress, { allowed: { packets: 9, bytes: 900 }, dropped: { packets: 0, bytes: 0 } });
  assert.ok(web.rules.every((r) => r.node === 'web'));
  assert.equal(web.rules.find((r) => r.name === 'n.web.eg.1')?.rule, 'to internet tcp 443');
});

test('LAN facts from the routing table: the default-route interface and its subnet', () => {
  const facts = parseLanFacts(fixture('ip-route-default.json'), fixture('ip-addr.json'), ['stbr0']);
  assert.equal(facts, { lanInterfaces: ['eth0'], lanSubnets: ['198.18.7.0/24'] });
  assert.equal(parseLanFacts('[]', fixture('ip-addr.json'), ['stbr0']), { lanInterfaces: [], lanSubnets: [] });
});

test('bridge filtering switch read from ip -d link', () => {
  assert.is(bridgeFiltersCalled(fixture('ip-link-bridge.json')), false);
  const on = JSON.parse(fixture('ip-link-bridge.json'));
  on[0].linkinfo.info_data.nf_call_iptables = 1;
  assert.is(bridgeFiltersCalled(JSON.stringify(on)), false, 'IPv6 must be filtered too');
  on[0].linkinfo.info_data.nf_call_ip6tables = 1;
  assert.is(bridgeFiltersCalled(JSON.stringify(on)), true);
});

test.run();
