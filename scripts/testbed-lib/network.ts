// Builds and removes the testbed's namespaces, links and NAT. Everything lives in namespaces named
// with the prefix; nothing is added to the machine's own namespace.
import { exec } from '../../agent/exec.ts';
import { carrierRules, homeRouterRules, type StationPlan, type TestbedPlan } from './topology.ts';

const ip = (argv: string[]) => exec(['ip', ...argv]);

async function addNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

/** A veth pair between two namespaces, each end with an address (CIDR), up. */
async function veth(aNs: string, aIf: string, aAddr: string | null, bNs: string, bIf: string, bAddr: string | null): Promise<void> {
  await ip(['link', 'add', aIf, 'netns', aNs, 'type', 'veth', 'peer', 'name', bIf, 'netns', bNs]);
  for (const [ns, ifn, addr] of [
    [aNs, aIf, aAddr],
    [bNs, bIf, bAddr],
  ] as const) {
    if (addr) await ip(['-n', ns, 'addr', 'add', addr, 'dev', ifn]);
    await ip(['-n', ns, 'link', 'set', ifn, 'up']);
  }
}

async function nft(netns: string, rules: string): Promise<void> {
  await exec(['nft', '-f', '-'], { netns, input: rules });
}

async function forwarding(netns: string): Promise<void> {
  await exec(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], { netns });
}

/** The simulated internet: one namespace with a bridge every router's WAN plugs into. */
export async function buildInternet(plan: TestbedPlan, created: string[]): Promise<void> {
  await addNetns(plan.internet);
  created.push(plan.internet);
  await ip(['-n', plan.internet, 'link', 'add', plan.bridge, 'type', 'bridge']);
  await ip(['-n', plan.internet, 'link', 'set', plan.bridge, 'up']);
}

async function plugIntoInternet(plan: TestbedPlan, ns: string, wanIf: string, inetIf: string, wanAddr: string): Promise<void> {
  await veth(ns, wanIf, wanAddr, plan.internet, inetIf, null);
  await ip(['-n', plan.internet, 'link', 'set', inetIf, 'master', plan.bridge]);
}

/** One home: the station's namespace behind its router (and a carrier NAT for double-NAT homes). */
export async function buildHome(plan: TestbedPlan, s: StationPlan, created: string[]): Promise<void> {
  const p = plan.prefix;
  const i = s.index;
  for (const ns of [s.router, ...(s.carrier ? [s.carrier] : [])]) {
    await addNetns(ns);
    created.push(ns);
  }
  await buildStationNetns(plan, s, created);
  await forwarding(s.router);
  const routerWan = `${p}r${i}w`;
  if (s.carrier) {
    const carrierLan = `198.19.${100 + i}`;
    await veth(s.router, routerWan, `${carrierLan}.2/24`, s.carrier, `${p}c${i}l`, `${carrierLan}.1/24`);
    await ip(['-n', s.router, 'route', 'add', 'default', 'via', `${carrierLan}.1`]);
    await plugIntoInternet(plan, s.carrier, `${p}c${i}w`, `${p}i${i}c`, `${s.publicIp}/16`);
    // The carrier routes back to the home router's LAN only through NAT; no route is needed.
    await forwarding(s.carrier);
    await nft(s.carrier, carrierRules(`${p}c${i}w`));
  } else {
    await plugIntoInternet(plan, s.router, routerWan, `${p}i${i}r`, `${s.publicIp}/16`);
  }
  await nft(s.router, homeRouterRules(s, routerWan));
}

/**
 * The station's own namespace on its home LAN, behind its router (which must exist): made by
 * buildHome, and again for a station whose namespace was removed (a power loss) when it comes back.
 */
export async function buildStationNetns(plan: TestbedPlan, s: StationPlan, created: string[]): Promise<void> {
  const p = plan.prefix;
  const i = s.index;
  await addNetns(s.netns);
  if (!created.includes(s.netns)) created.push(s.netns);
  await veth(s.netns, `${p}s${i}l`, `${s.lanIp}/24`, s.router, `${p}r${i}l`, `${s.routerLanIp}/24`);
  await ip(['-n', s.netns, 'route', 'add', 'default', 'via', s.routerLanIp]);
}

export async function listNetnsWithPrefix(prefix: string): Promise<string[]> {
  const out = (await exec(['ip', 'netns', 'list'], { allowFailure: true })).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${prefix}-`));
}
