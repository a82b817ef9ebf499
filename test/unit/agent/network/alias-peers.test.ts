// What a peer station may tell us about names (issue 11, finding 8): only names under its own label
// (NODE.PEER.<domain>) and aliases of its own owner (ALIAS.OWNER.<domain>); a `since` from the
// future counts from when we first saw the claim, never later; caps on records and name sizes.
// The registry and the record checks are pure; the exchange is tested against a real HTTP server
// on loopback.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from '../../../../agent/log.ts';
import { Writable } from 'node:stream';
import { AliasRegistry } from '../../../../agent/network/alias/registry.ts';
import { AliasExchange } from '../../../../agent/network/alias/exchange.ts';
import { MAX_RECORDS_PER_PEER, sanitizeRemote } from '../../../../agent/network/alias/records.ts';

const D = 'mesh.internal';
const FAR_FUTURE = 8_000_000_000_000_000;

/** A registry on a clock the test moves; s1 is this station with node web published since t=100. */
function registry(): { reg: AliasRegistry; clock: { now: number }; answer: (name: string) => string | undefined } {
  const clock = { now: 1000 };
  const reg = new AliasRegistry(D, { station: 's1', now: () => clock.now });
  reg.setLocalRecords([{ name: `web.s1.${D}`, address: '10.1.0.5', station: 's1', node: 'web', kind: 'node', since: 100 }]);
  return { reg, clock, answer: (name) => reg.resolved().find((r) => r.name === name)?.address };
}

/** What a peer claims for the node named by the first label of `label` (NODE.STATION): its address, since when. */
const nodeRecord = (label: string, address: string, since = 1) => ({ name: `${label}.${D}`, address, node: label.split('.')[0], kind: 'node', since });

test("a peer publishing another station's node name (with a far-future since) does not move it", () => {
  const { reg, answer } = registry();
  reg.setRemoteRecords('s2', [nodeRecord('web.s1', '6.6.6.6', FAR_FUTURE), nodeRecord('db.s3', '6.6.6.7'), nodeRecord('mine.s2', '10.2.0.9')], 'alice');
  assert.is(answer(`web.s1.${D}`), '10.1.0.5', 'our node keeps its address');
  assert.is(answer(`db.s3.${D}`), undefined, "s3's name is s3's to publish");
  assert.is(answer(`mine.s2.${D}`), '10.2.0.9', 'its own node names are accepted');
});

test('a node record must say the node its name names (no borrowing a node name for the plain-name directory)', () => {
  const got = sanitizeRemote(
    [
      { name: `x.s2.${D}`, address: '10.2.0.9', node: 'web', kind: 'node', since: 1 },
      { name: `a.b.s2.${D}`, address: '10.2.0.9', node: 'a', kind: 'node', since: 1 },
    ],
    { station: 's2', owner: 'alice' },
    D,
    1000,
    [],
  );
  assert.equal(got.records, []);
  assert.is(got.refused.length, 2);
});

test("aliases: only its own owner's, and while no owner is known only under its own label", () => {
  const { reg, answer } = registry();
  reg.setRemoteRecords('s2', [{ name: `www.alice.${D}`, address: '10.2.0.7', node: 'web', kind: 'alias', since: 500 }], 'alice');
  reg.setRemoteRecords(
    's3',
    [
      { name: `www.alice.${D}`, address: '6.6.6.6', node: 'web', kind: 'alias', since: FAR_FUTURE },
      { name: `www.mallory.${D}`, address: '10.3.0.7', node: 'web', kind: 'alias', since: 1 },
    ],
    'mallory',
  );
  assert.is(answer(`www.alice.${D}`), '10.2.0.7', "another owner's station cannot take alice's alias");
  assert.is(answer(`www.mallory.${D}`), '10.3.0.7', "its own owner's aliases are accepted");
  reg.setRemoteRecords('s4', [
    { name: `api.alice.${D}`, address: '6.6.6.8', node: 'api', kind: 'alias', since: 1 },
    { name: `api.s4.${D}`, address: '10.4.0.7', node: 'api', kind: 'alias', since: 1 },
  ]);
  assert.is(answer(`api.alice.${D}`), undefined, 'a peer of unknown owner holds no owner alias');
  assert.is(answer(`api.s4.${D}`), '10.4.0.7');
});

test('a since from the future counts from when we first saw it, and re-stamping an unchanged claim does not renew it', () => {
  const { reg, clock, answer } = registry();
  reg.setRemoteRecords('s2', [{ name: `www.alice.${D}`, address: '10.2.0.7', node: 'web', kind: 'alias', since: FAR_FUTURE }], 'alice');
  assert.is(answer(`www.alice.${D}`), '10.2.0.7');
  clock.now = 2000; // a replica becomes Active on s3 later than s2's claim was first seen
  reg.setRemoteRecords('s3', [{ name: `www.alice.${D}`, address: '10.3.0.7', node: 'web', kind: 'alias', since: 2000 }], 'alice');
  assert.is(answer(`www.alice.${D}`), '10.3.0.7', 'the later claim wins over the one from the "future"');
  clock.now = 3000; // s2 keeps publishing the same claim, now stamped "now" on every pull
  reg.setRemoteRecords('s2', [{ name: `www.alice.${D}`, address: '10.2.0.7', node: 'web', kind: 'alias', since: 3000 }], 'alice');
  assert.is(answer(`www.alice.${D}`), '10.3.0.7', 'an unchanged claim keeps the age we first gave it');
  assert.is(reg.resolved().find((r) => r.station === 's3')!.since, 2000);
});

test('a station with our own name is not a peer: nothing it says is taken', () => {
  const { reg, answer } = registry();
  reg.setRemoteRecords('s1', [nodeRecord('web.s1', '6.6.6.6', FAR_FUTURE), nodeRecord('new.s1', '6.6.6.6')], 'alice');
  assert.is(answer(`web.s1.${D}`), '10.1.0.5');
  assert.is(answer(`new.s1.${D}`), undefined);
});

test('caps: records per peer and name sizes; the excess is refused, never a crash', () => {
  const many = Array.from({ length: MAX_RECORDS_PER_PEER + 500 }, (_, i) => ({
    name: `n${i}.s2.${D}`,
    address: '10.2.0.1',
    node: `n${i}`,
    kind: 'node',
    since: 1,
  }));
  const got = sanitizeRemote(many, { station: 's2', owner: 'alice' }, D, 1000, []);
  assert.is(got.records.length, MAX_RECORDS_PER_PEER);
  assert.is(got.refused.length, 500);
  const long = `${'a'.repeat(63)}.`.repeat(4);
  const odd = sanitizeRemote(
    [
      { name: `${long}s2.${D}`, address: '10.2.0.1', node: 'a', kind: 'node', since: 1 },
      { name: `x.s2.${D}`, address: '10.2.0.1', node: 'x'.repeat(100_000), kind: 'node', since: 1 },
      { name: 'y'.repeat(1_000_000), address: '10.2.0.1', node: 'y', kind: 'node', since: 1 },
      { name: `z.s2.${D}`, address: '10.2.0.1', node: 'z', kind: 'node', since: Number.NaN },
      5,
      'x',
      null,
    ],
    { station: 's2' },
    D,
    1000,
    [],
  );
  assert.equal(
    odd.records.map((r) => [r.name, r.since]),
    [[`z.s2.${D}`, 0]],
  );
  assert.is(odd.refused.length, 6);
  for (const bad of [null, 'x', 5, {}, { length: 1e9 }]) assert.equal(sanitizeRemote(bad, { station: 's2' }, D, 1000, []).records, []);
});

/** A peer's API (a real HTTP server on loopback) answering GET /api/v1/aliases?scope=local with `body`. */
async function peerServer(body: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function capturedLog(): { log: Logger; lines: () => { msg: string; peer?: string; refused?: number }[] } {
  const out: string[] = [];
  const log: Logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        out.push(String(chunk));
        done();
      },
    }),
  );
  return {
    log,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string }),
  };
}

/**
 * One pull scenario: this station (registry()) exchanging with peer s2 of owner alice, whose API is a real
 * server answering `body`; `run` pulls and checks; the server is closed even when a check fails.
 */
async function withPeerS2(
  body: () => string,
  run: (ctx: {
    exchange: AliasExchange;
    answer: (name: string) => string | undefined;
    lines: () => { msg: string; peer?: string; refused?: number }[];
  }) => Promise<void>,
): Promise<void> {
  const { url, server } = await peerServer(body);
  const { reg, answer } = registry();
  const { log, lines } = capturedLog();
  const exchange = new AliasExchange({ registry: reg, log });
  try {
    exchange.setPeers([{ station: 's2', url, owner: 'alice' }]);
    await run({ exchange, answer, lines });
  } finally {
    server.close();
  }
}

test("the exchange passes the peer's owner on, and says once which records it refused", async () => {
  const records = [nodeRecord('web.s1', '6.6.6.6', FAR_FUTURE), { name: `www.alice.${D}`, address: '10.2.0.7', node: 'web', kind: 'alias', since: 1 }];
  await withPeerS2(
    () => JSON.stringify({ station: 's2', records }),
    async ({ exchange, answer, lines }) => {
      await exchange.pullOnce();
      await exchange.pullOnce();
      assert.is(answer(`www.alice.${D}`), '10.2.0.7');
      assert.is(answer(`web.s1.${D}`), '10.1.0.5');
      const refusals = lines().filter((l) => l.msg === 'alias records refused from a peer');
      assert.is(refusals.length, 1, 'one line, not one per pull');
      assert.equal([refusals[0]!.peer, refusals[0]!.refused], ['s2', 1]);
    },
  );
});

test('an answer larger than the cap is refused whole; the peer keeps its last records', async () => {
  let big = false;
  const small = JSON.stringify({ records: [nodeRecord('a.s2', '10.2.0.1')] });
  await withPeerS2(
    () => (big ? JSON.stringify({ records: [], pad: 'x'.repeat(3 * 1024 * 1024) }) : small),
    async ({ exchange, answer, lines }) => {
      await exchange.pullOnce();
      big = true;
      await exchange.pullOnce();
      assert.is(answer(`a.s2.${D}`), '10.2.0.1');
      assert.match(JSON.stringify(lines()), /larger than/);
      assert.match(exchange.peerStatus()[0]!.error ?? '', /larger than/);
    },
  );
});

test.run();
