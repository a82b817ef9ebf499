// Puts the node driver's changes under the fleet's rules without the node service knowing:
// - changes wait until this agent owns the nodes (during a balena hand-over the previous agent
//   still drives them; the new one must not start, stop or make nodes until it has taken over);
// - create and destroy, which must not be cut half-way, run holding balena's update lock, so the
//   supervisor defers an update until they finish (and a create is refused while one is applied).
import type { NodeDriver } from '../nodes/driver.ts';

export interface FleetGate {
  whenOwner(): Promise<void>;
  withUpdateLock<T>(fn: () => Promise<T>): Promise<T>;
}

export function gateDriver(driver: NodeDriver, fleet: FleetGate): NodeDriver {
  return {
    capability: () => driver.capability(),
    prepare: (network) => driver.prepare(network),
    ensureTemplate: (template, progress) => driver.ensureTemplate(template, progress),
    list: () => driver.list(),
    inspect: (name) => driver.inspect(name),
    create: async (build, progress) => {
      await fleet.whenOwner();
      return fleet.withUpdateLock(() => driver.create(build, progress));
    },
    start: async (name) => {
      await fleet.whenOwner();
      return driver.start(name);
    },
    stop: async (name, options) => {
      await fleet.whenOwner();
      return driver.stop(name, options);
    },
    destroy: async (name) => {
      await fleet.whenOwner();
      return fleet.withUpdateLock(() => driver.destroy(name));
    },
    exec: (name, command, options) => driver.exec(name, command, options),
    stats: (name) => driver.stats(name),
    logs: (name, options) => driver.logs(name, options),
  };
}

/** The release step of a hand-over: stop every running node gracefully, all at once. */
export async function stopAllNodes(driver: NodeDriver, timeoutSeconds: number): Promise<string[]> {
  const running = (await driver.list()).filter((n) => n.state === 'running');
  await Promise.all(running.map((n) => driver.stop(n.name, { timeoutSeconds })));
  return running.map((n) => n.name);
}
