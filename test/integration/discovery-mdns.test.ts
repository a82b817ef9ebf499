// Local discovery over a real (simulated) LAN: three test namespaces, a bridge in one, the agent
// in another, a querier in the third. The querier sends an mDNS question for `_station._tcp.local`
// and for `<name>.local` and must hear the station's name, its port and its address. The agent
// binds the API to its LAN address, so it announces there (and only there).
import { test } from '../helpers/uvu.ts';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { exec } from '../../agent/exec.ts';
import { tempStateDir } from '../e2e/state-dir.ts';
import { startAgent, type AgentHandle } from '../helpers/agent-process.ts';
import { createNetns, type Netns } from '../helpers/netns.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { runName } from '../helpers/run-prefix.ts';

const MDNS_GROUP = '224.0.0.251';
const STATION_IP = '198.18.94.2';
const QUERIER_IP = '198.18.94.3';

interface Heard {
  ptr: string[];
  srv: { name: string; host: string; port: number }[];
  a: { name: string; ip: string }[];
  txt: Record<string, string>[];
}

/** The querier: runs inside its namespace (this file re-run with MDNS_QUERY set), prints what it heard. */
async function query(): Promise<void> {
  const require = createRequire(import.meta.url);
  require('@homebridge/ciao/lib/coder/records/index.js'); // registers the record decoders
  const { DNSPacket } = require('@homebridge/ciao/lib/coder/DNSPacket.js');
  const { Question } = require('@homebridge/ciao/lib/coder/Question.js');
  const packet = DNSPacket.createDNSQueryPacket({
    questions: [new Question('_station._tcp.local.', 12), new Question(`${process.env.MDNS_QUERY}.local.`, 1)],
  });
  const heard: Heard = { ptr: [], srv: [], a: [], txt: [] };
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (msg, rinfo) => {
    try {
      const p = DNSPacket.decode(rinfo, msg);
      for (const r of [...p.answers.values(), ...p.additionals.values()]) {
        if (r.type === 12) heard.ptr.push(r.ptrName);
        if (r.type === 33) heard.srv.push({ name: r.name, host: r.hostname, port: r.port });
        if (r.type === 1) heard.a.push({ name: r.name, ip: r.ipAddress });
        if (r.type === 16) heard.txt.push(Object.fromEntries((r.txt as Buffer[]).map((b) => b.toString().split('=') as [string, string])));
      }
    } catch {
      /* not a packet for us */
    }
  });
  await new Promise<void>((resolve) => socket.bind(5353, resolve));
  socket.addMembership(MDNS_GROUP, QUERIER_IP);
  socket.setMulticastInterface(QUERIER_IP);
  for (let i = 0; i < 3; i++) {
    socket.send(packet.encode(), 5353, MDNS_GROUP);
    await new Promise((r) => setTimeout(r, 700));
  }
  socket.close();
  process.stdout.write(JSON.stringify(heard));
}

if (process.env.MDNS_QUERY) await query();
else {
  let lan: Netns;
  let station: Netns;
  let querier: Netns;
  let agent: AgentHandle;

  const plug = async (ns: Netns, address: string, suffix: string) => {
    const inside = runName(`${suffix}i`);
    const port = runName(`${suffix}p`);
    await exec(['ip', 'link', 'add', inside, 'netns', ns.name, 'type', 'veth', 'peer', 'name', port, 'netns', lan.name]);
    await exec(['ip', '-n', lan.name, 'link', 'set', port, 'master', runName('br'), 'up']);
    await exec(['ip', '-n', ns.name, 'addr', 'add', `${address}/24`, 'dev', inside]);
    await exec(['ip', '-n', ns.name, 'link', 'set', inside, 'up']);
    // the mDNS group is reached on the LAN interface
    await exec(['ip', '-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', inside]);
  };

  test.before(async () => {
    lan = await createNetns('lan');
    station = await createNetns('sta');
    querier = await createNetns('qry');
    await exec(['ip', '-n', lan.name, 'link', 'add', runName('br'), 'type', 'bridge']);
    await exec(['ip', '-n', lan.name, 'link', 'set', runName('br'), 'up']);
    await plug(station, STATION_IP, 's');
    await plug(querier, QUERIER_IP, 'q');
    agent = await startAgent({
      stateDir: await tempStateDir(),
      netns: station.name,
      host: STATION_IP,
      env: { STATION_NAME: 'den', STATION_DISABLE: 'nodes,network,mesh,fleet' },
    });
  });
  test.after(cleanupAll);

  test('a querier on the LAN finds _station._tcp with the station name, port and address', async () => {
    // ciao probes for about a second before it announces
    for (let i = 0; i < 50; i++) {
      const status = (await (await agent.api('/api/v1/status')).json()) as { summaries: { discovery?: { announced: unknown } } };
      if (status.summaries.discovery?.announced) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const port = Number(new URL(agent.baseUrl).port);
    const out = await exec([process.execPath, fileURLToPath(import.meta.url)], {
      netns: querier.name,
      env: { MDNS_QUERY: 'den' },
      timeoutMs: 20_000,
    });
    const heard = JSON.parse(out.stdout) as Heard;
    assert.ok(heard.ptr.includes('den._station._tcp.local.'), JSON.stringify(heard));
    const srv = heard.srv.find((s) => s.name === 'den._station._tcp.local.');
    assert.ok(srv, JSON.stringify(heard));
    assert.is(srv!.port, port);
    assert.is(srv!.host, 'den.local.');
    assert.ok(
      heard.a.some((a) => a.name === 'den.local.' && a.ip === STATION_IP),
      JSON.stringify(heard.a),
    );
    const txt = heard.txt.find((t) => t.name === 'den');
    assert.is(txt?.api, '/api/v1');
    // and the page answers at the announced host and port
    const page = await exec(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://${STATION_IP}:${srv!.port}/`], {
      netns: querier.name,
    });
    assert.is(page.stdout, '200');
  });

  test('the status says what was announced', async () => {
    const status = (await (await agent.api('/api/v1/status')).json()) as {
      summaries: { discovery: { announced: { hostname: string; service: string } } };
      subsystems: { name: string; state: string }[];
    };
    assert.equal(status.summaries.discovery.announced, { hostname: 'den.local', service: 'den._station._tcp.local' });
    assert.is(status.subsystems.find((s) => s.name === 'discovery')?.state, 'ok');
  });

  test.run();
}
