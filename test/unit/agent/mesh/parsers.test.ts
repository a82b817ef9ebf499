// Parsers of real Nebula, nebula-cert and ping output, captured in test/fixtures/nebula/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseCertPrint, publicKeyHex, splitPem } from '../../../../agent/mesh/cert-info.ts';
import { parseNebulaLogLine } from '../../../../agent/mesh/nebula-log.ts';
import { parsePingRtt } from '../../../../agent/mesh/ping-output.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/nebula/${name}`, import.meta.url), 'utf8');

test('nebula-cert print -json: a CA', () => {
  const [ca] = parseCertPrint(fixture('print-ca.json'));
  assert.is(ca!.isCa, true);
  assert.is(ca!.name, 'owner alice');
  assert.is(ca!.fingerprint, 'cbde4e679841e7e41c2cd2698f313ef82920fc1590026163bf23e82fdd84ddd0');
});

test('nebula-cert print -json: a host certificate, issued by that CA, for that public key', () => {
  const [host] = parseCertPrint(fixture('print-host.json'));
  assert.is(host!.isCa, false);
  assert.equal(host!.ips, ['100.90.0.2/10']);
  assert.equal(host!.groups, ['station', 'owner-alice']);
  assert.is(host!.issuer, parseCertPrint(fixture('print-ca.json'))[0]!.fingerprint);
  assert.is(host!.publicKey, publicKeyHex(fixture('host.pub')));
});

test('a public key that is not a Nebula X25519 PEM is refused', () => {
  assert.throws(() => publicKeyHex('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'), /not a Nebula/);
  assert.throws(() => publicKeyHex('-----BEGIN NEBULA X25519 PUBLIC KEY-----\nAAAA\n-----END NEBULA X25519 PUBLIC KEY-----'), /length/);
});

test('splitPem finds each certificate of a bundle', () => {
  const ca = fixture('ca.crt');
  assert.is(splitPem(ca).length, 1);
  assert.is(splitPem(ca + ca).length, 2);
  assert.is(splitPem('garbage').length, 0);
});

test('Nebula log: completed handshakes, direct and through a relay', () => {
  const events = fixture('nebula-log-double-nat.jsonl')
    .split('\n')
    .map(parseNebulaLogLine)
    .filter((e) => e !== undefined);
  const handshakes = events.filter((e) => e.kind === 'handshake');
  assert.ok(handshakes.length >= 3, 'one per peer');
  const direct = handshakes.find((e) => e.certName === 's1')!;
  assert.is(direct.relay, undefined);
  assert.is(direct.udpAddr, '198.18.0.1:4242');
  const relayed = handshakes.filter((e) => e.relay);
  assert.ok(relayed.length >= 2, 'the double-NAT station reaches the NATed peers through the relay');
  for (const e of relayed) assert.is(e.relay, direct.vpnIp);
  assert.ok(events.some((e) => e.kind === 'relay'));
});

test('Nebula log, initiator side: the completion has no address; the relay is named on the line before', async () => {
  const { PeerMonitor } = await import('../../../../agent/mesh/peers.ts');
  const events = fixture('nebula-log-double-nat-initiator.jsonl')
    .split('\n')
    .map(parseNebulaLogLine)
    .filter((e) => e !== undefined);
  const s2 = events.find((e) => e.kind === 'handshake' && e.certName === 's2')!;
  assert.is(s2.udpAddr, undefined);
  assert.is(s2.relay, undefined);
  const monitor = new PeerMonitor(async () => {
    throw new Error('no programs in this test');
  });
  for (const e of events) monitor.onNebulaEvent(e);
  const lighthouse = events.find((e) => e.kind === 'handshake' && e.certName === 's1')!.vpnIp!;
  const state = {
    address: '100.115.0.4',
    members: ['s1', 's2', 's3', 's4'].map((name, i) => ({
      name,
      address: `100.115.0.${i + 1}`,
      owner: 'alice',
      fingerprint: '',
      lighthouse: i === 0,
      endpoints: [],
      apiPort: 8088,
      joinedAt: '',
    })),
  } as unknown as Parameters<typeof monitor.view>[0];
  const view = monitor.view(state, new Date());
  assert.is(view.find((p) => p.name === 's1')!.via, null);
  assert.is(view.find((p) => p.name === 's2')!.via, lighthouse);
  assert.is(view.find((p) => p.name === 's3')!.via, lighthouse);
  assert.type(view.find((p) => p.name === 's2')!.lastHandshake, 'string');
});

test('Nebula log: stage-1 handshake messages and non-JSON lines are not completed handshakes', () => {
  const lines = fixture('nebula-log-lighthouse.jsonl').split('\n');
  const stage1 = lines.find((l) => l.includes('"stage":1'))!;
  assert.is(parseNebulaLogLine(stage1)!.kind, 'other');
  assert.is(parseNebulaLogLine('panic: something'), undefined);
  assert.is(parseNebulaLogLine('{broken'), undefined);
});

test('ping: round-trip time, or null without a reply', () => {
  assert.is(parsePingRtt(fixture('ping-ok.txt')), 0.905);
  assert.is(parsePingRtt(fixture('ping-unreachable.txt')), null);
});

test.run();
