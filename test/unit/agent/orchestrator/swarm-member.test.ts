// One member's round against a double of `docker` inside the node that answers with output recorded
// on the testbed (test/fixtures/docker/): the commands the agent runs, in order, and what it reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { NodeExecOptions, NodeExecResult } from '../../../../agent/nodes/driver.ts';
import type { NodeView } from '../../../../agent/nodes/view.ts';
import { convergeSwarmMember, type SwarmMemberDeps } from '../../../../agent/orchestrator/swarm/swarm-member.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/docker/${name}`, import.meta.url), 'utf8');
const ok = (stdout: string): NodeExecResult => ({ exitCode: 0, stdout, stderr: '' });
const TOKEN = fixture('swarm-join-token-manager-q.stdout').trim();

/** A node's docker as a sequence of states: `info` answers the current one; join/init move it on. */
function dockerDouble(start: 'inactive' | 'manager') {
  let state = start;
  const calls: { command: string; secrets: readonly string[] }[] = [];
  const exec = async (_node: string, command: string[], options: NodeExecOptions = {}): Promise<NodeExecResult> => {
    const line = command.join(' ');
    calls.push({ command: line, secrets: options.secrets ?? [] });
    if (line.startsWith('docker version')) return ok(fixture('docker-version.stdout'));
    if (line.startsWith('docker info')) return ok(fixture(state === 'inactive' ? 'docker-info-swarm-inactive.stdout' : 'docker-info-swarm-manager.stdout'));
    if (line.startsWith('docker swarm join ') || line.startsWith('docker swarm init')) {
      state = 'manager';
      return ok(fixture(line.includes('init') ? 'swarm-init.stdout' : 'swarm-join-manager-dk2.stdout'));
    }
    if (line.startsWith('docker image inspect')) return { exitCode: 1, stdout: '', stderr: 'Error: No such image' };
    if (line.startsWith('docker import')) return ok('sha256:d48750b051e8');
    if (line.startsWith('docker network ls')) return ok('ingress\n');
    if (line.startsWith('docker network create')) return ok('qulf40cne8vntunuhs06ymtkd\n');
    if (line.startsWith('docker node ls')) return ok(fixture('docker-node-ls-healthy.stdout'));
    return { exitCode: 1, stdout: '', stderr: `unexpected: ${line}` };
  };
  return { exec, calls };
}

const view = {
  name: 'sw',
  state: 'running',
  address: '198.19.193.24',
  spec: { orchestrator: { kind: 'swarm', cluster: 'home', role: 'manager' } },
} as unknown as NodeView;

function deps(exec: SwarmMemberDeps['exec'], o: Partial<SwarmMemberDeps> = {}): SwarmMemberDeps {
  return {
    exec,
    findOffer: async () => null,
    claimFounder: async () => ({ founder: false, reason: 's1/sw is starting cluster home' }),
    busyboxImage: async () => ({ tag: '1.35.0', tar: () => Readable.from([Buffer.from('tar')]) }),
    overlayMtu: 1300,
    registry: null,
    upkeepDue: true,
    kept: () => undefined,
    ...o,
  };
}

test('a way in offered: joins through the first manager with the token as a secret, then reports the healthy cluster', async () => {
  const docker = dockerDouble('inactive');
  const report = await convergeSwarmMember(
    deps(docker.exec, { findOffer: async () => ({ token: TOKEN, managers: ['198.19.192.100:2377'], role: 'manager' as const }) }),
    view,
  );
  const join = docker.calls.find((c) => c.command.startsWith('docker swarm join '));
  assert.is(join?.command, `docker swarm join --token ${TOKEN} --advertise-addr 198.19.193.24 --listen-addr 198.19.193.24:2377 198.19.192.100:2377`);
  assert.equal(join?.secrets, [TOKEN], 'the token is blanked out of every result and error');
  assert.equal([report.state, report.memberRole, report.engineVersion, report.view?.health], ['member', 'manager', '20.10.24+dfsg1', 'healthy']);
  assert.ok(
    docker.calls.some((c) => c.command === 'docker import --change CMD ["sh"] - station/busybox:1.35.0'),
    'the busybox image is imported',
  );
  assert.ok(
    docker.calls.some((c) => c.command === 'docker network create --driver overlay --attachable --opt com.docker.network.driver.mtu=1300 station'),
    'the overlay network with the mesh MTU',
  );
});

test('nobody has the cluster and another station is its founder: waits, runs neither init nor join', async () => {
  const docker = dockerDouble('inactive');
  const report = await convergeSwarmMember(deps(docker.exec), view);
  assert.equal([report.state, report.reason], ['forming', 's1/sw is starting cluster home']);
  assert.not.ok(docker.calls.some((c) => /swarm (init|join)/.test(c.command)));
});

test('the founder starts the swarm on its own address', async () => {
  const docker = dockerDouble('inactive');
  const report = await convergeSwarmMember(deps(docker.exec, { claimFounder: async () => ({ founder: true }) }), view);
  assert.ok(docker.calls.some((c) => c.command === 'docker swarm init --advertise-addr 198.19.193.24 --listen-addr 198.19.193.24:2377'));
  assert.is(report.state, 'member');
});

test('between upkeeps a member is only looked at: version, info and the member list', async () => {
  const docker = dockerDouble('manager');
  const report = await convergeSwarmMember(deps(docker.exec, { upkeepDue: false }), view);
  assert.equal(
    docker.calls.map((c) => c.command.split(' ').slice(0, 2).join(' ')),
    ['docker version', 'docker info', 'docker node'],
  );
  assert.equal([report.state, report.view?.health], ['member', 'healthy']);
});

test('a stopped node, and an engine that does not answer yet, say so', async () => {
  const docker = dockerDouble('inactive');
  assert.equal((await convergeSwarmMember(deps(docker.exec), { ...view, state: 'stopped' } as NodeView)).state, 'stopped');
  const silent = async (): Promise<NodeExecResult> => ({
    exitCode: 1,
    stdout: '',
    stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.',
  });
  const report = await convergeSwarmMember(deps(silent), view);
  assert.equal([report.state, report.reason], ['starting', 'dockerd does not answer yet (docker.io installing or starting)']);
});

test("before joining: the registry without logins, dockerd trusting the cluster's registry (a person's settings kept), restarted once", async () => {
  const files = new Map<string, string>([['/etc/docker/daemon.json', '{"log-level": "warn"}']]);
  const docker = dockerDouble('inactive');
  const exec: SwarmMemberDeps['exec'] = async (node, command, options = {}) => {
    const line = command.join(' ');
    const read = /^cat (\S+)$/.exec(line);
    if (read) return files.has(read[1]!) ? { exitCode: 0, stdout: files.get(read[1]!)!, stderr: '' } : { exitCode: 1, stdout: '', stderr: 'No such file' };
    const written = /cat > '([^']+)\.part'/.exec(line);
    if (written) files.set(written[1]!, options.input ?? '');
    if (written || line.startsWith('systemctl restart')) {
      docker.calls.push({ command: line, secrets: [] });
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    return docker.exec(node, command, options);
  };
  const registry = 'home.alice.mesh.internal:5000';
  const first = await convergeSwarmMember(deps(exec, { registry, claimFounder: async () => ({ founder: true }) }), view);
  assert.equal([first.state, first.reason], ['starting', `dockerd restarting to trust the cluster's registry ${registry}`]);
  assert.not.ok(
    docker.calls.some((c) => c.command.includes('swarm init')),
    'not joined while dockerd restarts',
  );
  assert.not.ok(files.get('/etc/docker/registry/config.yml')!.includes('auth'));
  assert.equal(JSON.parse(files.get('/etc/docker/daemon.json')!), { 'log-level': 'warn', 'insecure-registries': [registry] });
  const restarts = () => docker.calls.filter((c) => c.command.startsWith('systemctl restart')).map((c) => c.command);
  assert.equal(restarts(), ['systemctl restart docker-registry', 'systemctl restart docker']);
  const next = await convergeSwarmMember(deps(exec, { registry, claimFounder: async () => ({ founder: true }) }), view);
  assert.is(next.state, 'member');
  assert.equal(restarts().length, 2, 'nothing restarted again');
});

test.run();
