// What another station's answer must look like to be taken as a way into a cluster: each engine's
// own token and join address (the tokens here have the shapes the engines' tests use), nothing else.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { isOffer } from '../../../../agent/orchestrator/orchestrator-peers.ts';

const SWARM_TOKEN = readFileSync(new URL('../../../fixtures/docker/swarm-join-token-manager-q.stdout', import.meta.url), 'utf8').trim();
const K3S_TOKEN = 'K10d3a1c5e9f8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1::server:5f0c2e9d4b7a';
const MICROK8S_TOKEN = '0c7f86c53691b2d01abba161b69ee7c1/ca5f25c53b42';

test("each engine's offer is a way into its own kind of cluster", () => {
  assert.ok(isOffer('swarm', { token: SWARM_TOKEN, role: 'manager', managers: ['198.19.192.100:2377'] }));
  assert.ok(isOffer('k3s', { token: K3S_TOKEN, role: 'worker', managers: ['https://198.19.2.10:6443'] }));
  assert.ok(isOffer('microk8s', { token: MICROK8S_TOKEN, role: 'manager', managers: ['198.19.2.10:25000', '198.19.3.10:25000'] }));
});

test('another kind, a bad role, no place to join or a join place that is not an address: refused', () => {
  assert.not.ok(isOffer('k3s', { token: SWARM_TOKEN, role: 'manager', managers: ['198.19.192.100:2377'] }));
  assert.not.ok(isOffer('microk8s', { token: K3S_TOKEN, role: 'manager', managers: ['https://198.19.2.10:6443'] }));
  assert.not.ok(isOffer('swarm', { token: SWARM_TOKEN, role: 'auto' as never, managers: ['198.19.192.100:2377'] }));
  assert.not.ok(isOffer('microk8s', { token: MICROK8S_TOKEN, role: 'worker', managers: [] }));
  assert.not.ok(isOffer('k3s', { token: K3S_TOKEN, role: 'worker', managers: ['https://evil.example:6443'] }));
  assert.not.ok(isOffer('nomad', { token: SWARM_TOKEN, role: 'worker', managers: ['198.19.192.100:2377'] }));
  assert.not.ok(isOffer('k3s', { token: `${K3S_TOKEN} --flag`, role: 'worker', managers: ['https://198.19.2.10:6443'] }));
});

test.run();
