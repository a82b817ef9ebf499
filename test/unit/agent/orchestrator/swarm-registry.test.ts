import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { daemonJsonWith, REGISTRY_CONFIG_TEXT } from '../../../../agent/orchestrator/swarm/swarm-registry.ts';

test("daemon.json: the cluster's registry added to what a person set, once; a broken file is a clear error", () => {
  const r = 'home.alice.mesh.internal:5000';
  assert.equal(JSON.parse(daemonJsonWith('', r)!), { 'insecure-registries': [r] });
  const kept = daemonJsonWith('{"insecure-registries": ["lan:5000"], "log-level": "warn"}', r)!;
  assert.equal(JSON.parse(kept), { 'insecure-registries': ['lan:5000', r], 'log-level': 'warn' });
  assert.is(daemonJsonWith(kept, r), null, 'there already: nothing to write, no restart');
  assert.throws(() => daemonJsonWith('{"log-level": ', r), /daemon.json in the node is not JSON/);
});

test("the registry's config asks for no logins and listens on 5000", () => {
  assert.not.ok(/^auth:/m.test(REGISTRY_CONFIG_TEXT));
  assert.match(REGISTRY_CONFIG_TEXT, /^ {2}addr: :5000$/m);
});

test.run();
