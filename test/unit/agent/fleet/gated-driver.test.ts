// The gated driver: node changes wait for the node lease under balena, create/destroy hold the
// update lock, reads pass straight through; not under balena nothing waits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gateDriver, stopAllNodes } from '../../../../agent/fleet/gated-driver.ts';
import { FleetSubsystem } from '../../../../agent/fleet/fleet-subsystem.ts';
import type { NodeDriver } from '../../../../agent/nodes/driver.ts';
import { createLogger } from '../../../../agent/log.ts';

function recordingDriver(calls: string[]): NodeDriver {
  const rec = (name: string) => async () => {
    calls.push(name);
  };
  return {
    capability: async () => ({ available: true, reason: '' }),
    prepare: rec('prepare'),
    ensureTemplate: rec('ensureTemplate'),
    list: async () => [
      { name: 'a', state: 'running', pid: 10, partial: false },
      { name: 'b', state: 'stopped', pid: null, partial: false },
    ],
    inspect: async () => null,
    create: rec('create'),
    start: rec('start'),
    stop: async (name: string) => {
      calls.push(`stop ${name}`);
    },
    destroy: rec('destroy'),
    exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
    stats: async () => null,
    logs: async () => '',
  };
}

test('changes wait until the agent owns the nodes; create and destroy hold the update lock', async () => {
  const calls: string[] = [];
  let owner!: () => void;
  const owned = new Promise<void>((r) => {
    owner = r;
  });
  const gate = {
    whenOwner: () => owned,
    withUpdateLock: async <T>(fn: () => Promise<T>) => {
      calls.push('lock');
      const v = await fn();
      calls.push('unlock');
      return v;
    },
  };
  const driver = gateDriver(recordingDriver(calls), gate);
  const pending = Promise.all([driver.start('a'), driver.create({} as never), driver.destroy('a')]);
  await driver.list();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(calls, [], 'nothing changed before ownership');
  owner();
  await pending;
  assert.equal(calls.sort(), ['create', 'destroy', 'lock', 'lock', 'start', 'unlock', 'unlock'].sort());
});

test('not under balena, the fleet gate never waits', async () => {
  const fleet = new FleetSubsystem({
    env: null,
    stateDir: '/nonexistent',
    log: createLogger('silent', false),
    status: () => {
      throw new Error('unused');
    },
    reportSeconds: 60,
    nodes: { releaseNodes: async () => {}, resumeNodes: async () => {} },
  });
  const calls: string[] = [];
  const driver = gateDriver(recordingDriver(calls), fleet);
  await driver.start('a');
  await driver.create({} as never);
  assert.equal(calls, ['start', 'create']);
});

test('stopAllNodes stops the running nodes only', async () => {
  const calls: string[] = [];
  assert.equal(await stopAllNodes(recordingDriver(calls), 5), ['a']);
  assert.equal(calls, ['stop a']);
});

test.run();
