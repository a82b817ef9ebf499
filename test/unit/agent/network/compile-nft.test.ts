// Golden files: policies in (test/fixtures/network/golden/NAME.input.json), the exact nftables
// ruleset (NAME.nft) and Nebula firewall entries (NAME.nebula.json) out. Regenerate after a
// deliberate change with UPDATE_GOLDEN=1 and read the diff before committing it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { compileRuleset } from '../../../../agent/network/compile-nft.ts';
import { meshFirewallRules } from '../../../../agent/network/nebula-firewall.ts';
import type { CompileInput } from '../../../../agent/network/types.ts';

const DIR = new URL('../../../fixtures/network/golden/', import.meta.url).pathname;
const update = process.env.UPDATE_GOLDEN === '1';
const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => f.replace('.input.json', ''));

function golden(file: string, actual: string): void {
  if (update) writeFileSync(DIR + file, actual);
  assert.fixture(actual, readFileSync(DIR + file, 'utf8'));
}

for (const name of cases) {
  const input = JSON.parse(readFileSync(`${DIR}${name}.input.json`, 'utf8')) as CompileInput;
  test(`${name}: the exact nftables ruleset`, () => {
    golden(`${name}.nft`, compileRuleset(input).text);
  });
  test(`${name}: the exact Nebula firewall entries`, () => {
    const out = meshFirewallRules(input.nodes, input.directory, { meshSubnets: input.facts.meshSubnets });
    golden(`${name}.nebula.json`, `${JSON.stringify(out, null, 2)}\n`);
  });
}

test('the ruleset only ever names the tables inet station and bridge station, and replaces them whole', () => {
  for (const name of cases) {
    const { text } = compileRuleset(JSON.parse(readFileSync(`${DIR}${name}.input.json`, 'utf8')) as CompileInput);
    const tables = [...text.matchAll(/^(?:delete )?table (\S+) (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.equal([...new Set(tables)], ['inet station', 'bridge station']);
    assert.ok(text.indexOf('delete table inet station') < text.indexOf('table inet station {\n'), 'delete comes before the new table');
    assert.ok(text.indexOf('delete table bridge station') < text.indexOf('table bridge station {\n'), 'delete comes before the new table');
    assert.not.match(text, /flush ruleset/);
  }
});

test('every rule that accepts, returns, drops or translates carries a named counter', () => {
  for (const name of cases) {
    const { text, counters } = compileRuleset(JSON.parse(readFileSync(`${DIR}${name}.input.json`, 'utf8')) as CompileInput);
    const verdicts = text
      .split('\n')
      .filter(
        (l) =>
          /\b(accept|return|drop|dnat ip to|masquerade)$/.test(l.trim()) && !/^\s*(type|ct state related|ct direction|ct state established)/.test(l.trim()),
      );
    for (const line of verdicts) assert.match(line, /counter name \S+/, line);
    // The verdict shown next to each counter (the page, the metrics) is what its rule does.
    for (const line of verdicts) {
      const info = counters.find((c) => c.name === /counter name (\S+)/.exec(line)?.[1]);
      if (info) assert.is(info.verdict, line.trim().endsWith(' drop') ? 'drop' : 'allow', line);
    }
    const inet = text.slice(0, text.indexOf('table bridge station'));
    const declared = [...inet.matchAll(/^\tcounter (\S+) \{/gm)].map((m) => m[1]);
    assert.equal(declared.sort(), counters.map((c) => c.name).sort());
  }
});

test('a counter seed is carried into the declarations; other counters start at zero', () => {
  const input = JSON.parse(readFileSync(`${DIR}fallbacks.input.json`, 'utf8')) as CompileInput;
  const { text } = compileRuleset(input);
  assert.match(text, 'counter n.a.eg.0 { packets 7 bytes 700 }');
  assert.match(text, 'counter n.a.eg.1 { }');
});

test('the same input gives the same text (applying twice changes nothing)', () => {
  const input = JSON.parse(readFileSync(`${DIR}basic.input.json`, 'utf8')) as CompileInput;
  const shuffled = { ...input, nodes: [...input.nodes].reverse() };
  assert.is(compileRuleset(input).text, compileRuleset(shuffled).text);
});

test("the station's mesh address: reached through the mesh interface or lo only, before anything from the bridge (counted)", () => {
  const input = JSON.parse(readFileSync(`${DIR}basic.input.json`, 'utf8')) as CompileInput;
  const { text, counters } = compileRuleset({ ...input, facts: { ...input.facts, meshAddress: '100.65.0.2' } });
  const chain = text.slice(text.indexOf('\tchain input {'), text.indexOf('\tchain from_nodes {'));
  assert.fixture(
    chain,
    [
      '\tchain input {',
      '\t\ttype filter hook input priority filter; policy accept;',
      '\t\tip daddr 100.65.0.2 iifname != { "nebula1", "lo" } counter name mesh.bypass.drop drop',
      '\t\tiifname "stbr0" jump from_nodes',
      '\t}',
      '',
    ].join('\n'),
  );
  assert.match(text, '\tcounter mesh.bypass.drop { }');
  assert.equal(
    counters.find((c) => c.name === 'mesh.bypass.drop'),
    { name: 'mesh.bypass.drop', node: null, direction: 'shared', verdict: 'drop', rule: "to the station's mesh address, not through the mesh" },
  );
  // the count survives a re-apply, like every other counter
  const seeded = compileRuleset({
    ...input,
    facts: { ...input.facts, meshAddress: '100.65.0.2' },
    counterSeed: { 'mesh.bypass.drop': { packets: 3, bytes: 180 } },
  });
  assert.match(seeded.text, '\tcounter mesh.bypass.drop { packets 3 bytes 180 }');
});

test('no mesh (or no mesh address known yet): no mesh address rule', () => {
  const input = JSON.parse(readFileSync(`${DIR}basic.input.json`, 'utf8')) as CompileInput;
  const { meshInterface: _, ...noMesh } = input.facts;
  for (const facts of [input.facts, { ...noMesh, meshAddress: '100.65.0.2' }]) {
    const { text, counters } = compileRuleset({ ...input, facts });
    assert.not.match(text, 'mesh.bypass');
    assert.not.match(text, '100.65.0.2');
    assert.ok(!counters.some((c) => c.name === 'mesh.bypass.drop'));
  }
});

test('Nebula entries: local_cidr per node for newer Nebula, owner groups as the mesh names them', () => {
  const input = JSON.parse(readFileSync(`${DIR}basic.input.json`, 'utf8')) as CompileInput;
  const out = meshFirewallRules(input.nodes, input.directory, { meshSubnets: input.facts.meshSubnets, localCidr: true });
  assert.equal(out.inbound, [
    { port: '22', proto: 'tcp', group: 'owner-alice', local_cidr: '10.134.0.10/32' },
    { port: '5432', proto: 'tcp', cidr: '10.135.0.20/32', local_cidr: '10.134.0.11/32' },
  ]);
});

test('Nebula entries: nothing for local nodes, the LAN or the internet', () => {
  const out = meshFirewallRules(
    [
      {
        name: 'a',
        address: '10.134.0.10',
        policy: {
          egress: [{ to: 'node:b' }, { to: 'lan' }, { to: 'internet' }, { to: '192.168.0.0/16' }],
          ingress: [{ from: 'node:b' }, { from: 'lan' }],
        },
      },
      { name: 'b', address: '10.134.0.11', policy: {} },
    ],
    { nodes: {}, owners: {}, groups: {} },
    { meshSubnets: ['100.64.0.0/10'] },
  );
  assert.equal(out, { inbound: [], outbound: [] });
});

test.run();
