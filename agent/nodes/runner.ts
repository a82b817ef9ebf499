// Executes a node's planned steps, one node at a time (the caller holds the node's lock). A change
// that made a container and then failed removes that container again, so a failed create leaves
// nothing half-made; the record keeps the spec and the reconcile loop tries again later.
import type { NodeDriver } from './driver.ts';
import type { Step } from './planner.ts';
import type { StateDocument } from '../store/document.ts';
import { recordOf, type NodesState } from './store.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import { toBuild, buildHash, type BuildContext } from './build.ts';
import { ensureVolumes } from './volumes.ts';
import { deleteNodeVolumes } from '../storage/driver.ts';

export interface RunnerDeps {
  driver: NodeDriver;
  doc: StateDocument<NodesState>;
  context: BuildContext;
  events: EventBus;
  log: Logger;
}

export interface RunOptions {
  stopTimeoutSeconds: number;
}

const PROGRESS_EVERY_MS = 200;

export class StepRunner {
  private readonly deps: RunnerDeps;

  constructor(deps: RunnerDeps) {
    this.deps = deps;
  }

  async run(name: string, steps: readonly Step[], options: RunOptions): Promise<void> {
    const { driver, log } = this.deps;
    let made = false;
    try {
      for (const step of steps) {
        log.info({ node: name, op: step.op, reason: step.reason }, 'node step');
        switch (step.op) {
          case 'destroyPartial':
          case 'destroy':
            await driver.destroy(name);
            await this.setBuilt(name, null);
            break;
          case 'create':
            await this.create(name);
            made = true;
            break;
          case 'start':
            await driver.start(name);
            break;
          case 'stop':
            await driver.stop(name, { timeoutSeconds: options.stopTimeoutSeconds });
            break;
          case 'recreate': {
            const observed = await driver.inspect(name);
            if (observed && observed.state !== 'stopped') await driver.stop(name, { timeoutSeconds: options.stopTimeoutSeconds });
            if (observed) await driver.destroy(name);
            await this.setBuilt(name, null);
            await this.create(name);
            made = true;
            if (step.start) await driver.start(name);
            break;
          }
          case 'forget':
            await this.forget(name);
            break;
        }
      }
    } catch (error) {
      if (made) {
        log.warn({ node: name, err: error }, 'node change failed; removing the container it made');
        try {
          await driver.destroy(name);
          await this.setBuilt(name, null);
        } catch (undoError) {
          log.error({ node: name, err: undoError }, 'could not remove the half-made container; the reconcile loop will');
        }
      }
      throw error;
    }
  }

  private async create(name: string): Promise<void> {
    const { driver, doc, context, events } = this.deps;
    const record = recordOf(doc.get(), name);
    if (!record) throw new Error(`node ${name} has no record`);
    const build = toBuild(record.spec, record.address, context);
    await ensureVolumes(context.storage, record.spec);
    let last = 0;
    const progress = (message: string) => {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      events.publish('node.progress', { name, template: build.template, message: message.trim().slice(0, 300) });
    };
    await driver.ensureTemplate(build.template, progress);
    await driver.create(build, progress);
    await this.setBuilt(name, buildHash(build));
  }

  private async setBuilt(name: string, hash: string | null): Promise<void> {
    if (!recordOf(this.deps.doc.get(), name)) return;
    await this.deps.doc.update((draft) => {
      const record = recordOf(draft, name);
      if (record) record.builtHash = hash;
    });
  }

  private async forget(name: string): Promise<void> {
    const record = recordOf(this.deps.doc.get(), name);
    if (!record) return;
    if (record.deleteVolumes) await deleteNodeVolumes(this.deps.context.storage, name);
    await this.deps.doc.update((draft) => {
      delete draft.nodes[name];
    });
  }
}
