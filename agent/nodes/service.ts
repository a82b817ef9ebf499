// The node service: the actions the API and CLI call (create, patch, delete, start, stop, restart,
// recreate, exec, logs, stats) and the convergence they share with the reconcile loop. Every change
// updates the desired state first, then converges that one node under its lock through the pure
// planner and the step runner; the loop later repairs whatever drifts.
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { StateDocument } from '../store/document.ts';
import type { NodeDriver, NodeExecOptions, NodeExecResult, NodeStats, ObservedNode } from './driver.ts';
import { validateSpec, applyPatch, type NodeSpec } from './spec.ts';
import { planNode, plan, unmanaged, type Step } from './planner.ts';
import { allocateAddress } from './ipam.ts';
import { checkCapacity } from './capacity.ts';
import { readHostCapacity } from './host-capacity.ts';
import { toBuild, buildHash, type BuildContext } from './build.ts';
import { deleteNodeVolumes } from '../storage/driver.ts';
import { KeyedSerialQueue } from '../lib/serial-queue.ts';
import { RetryBook, type NodeRetry } from './retries.ts';
import { StepRunner } from './runner.ts';
import { volumeUsage } from './volumes.ts';
import { recordOf, toDesired, type NodeRecord, type NodesState } from './store.ts';
import { nodeView, type NodeView, type NodeTraffic } from './view.ts';

export type { NodeView } from './view.ts';

export interface NodeServiceDeps {
  driver: NodeDriver;
  doc: StateDocument<NodesState>;
  context: BuildContext;
  events: EventBus;
  log: Logger;
  station: { name: string; domain: string; lxcPath: string };
  /** the Network Node's check of a new or changed policy (names, ports, aliases); throws ValidationError */
  validatePolicy?: (name: string, policy: unknown) => void;
  /** the Network Node's per-node counters (allowed and dropped, both ways) */
  trafficCounters?: (name: string) => Promise<NodeTraffic | undefined>;
  /** the Network Node: node:NAME references of a policy that name no node now (given this station's nodes) */
  danglingReferences?: (name: string, policy: unknown, localNodes: string[]) => string[];
  /** the replicas room's check of a node's replicas against the mesh (4xx on the first problem) */
  checkReplicas?: (name: string, replicas: NonNullable<NodeSpec['replicas']>) => void;
  /** a replicated node starts only where this says so (it holds the node's lease, taking it if free): never two Active copies */
  mayStart?: (name: string) => Promise<boolean>;
  /** the orchestrator room's check of a node's cluster against the mesh (4xx) */
  checkOrchestrator?: (orchestrator: NonNullable<NodeSpec['orchestrator']>) => void;
  /** told before a replicated node is removed (a deletion, not a failover: its copies must not take it over) */
  removing?: (name: string) => void;
  /** the first pause before retrying a node whose change failed twice (default 5 s); it doubles up to 5 min */
  retryBaseMs?: number;
}

const DEFAULT_STOP_TIMEOUT_S = 10;
const EXEC_TIMEOUT_MS = 5 * 60_000;

export class NodeService {
  private readonly deps: NodeServiceDeps;
  private readonly locks = new KeyedSerialQueue();
  private readonly admission = new KeyedSerialQueue();
  private readonly runner: StepRunner;
  private readonly observed = new Map<string, ObservedNode>();
  private readonly failures: RetryBook;
  private unmanagedNames: string[] = [];

  constructor(deps: NodeServiceDeps) {
    this.deps = deps;
    this.runner = new StepRunner(deps);
    this.failures = new RetryBook(deps.retryBaseMs);
  }

  // ---- reads (from the cache the loop and actions keep fresh; no program runs for a list) ----

  list(): NodeView[] {
    const nodes = this.deps.doc.get().nodes;
    return Object.keys(nodes)
      .sort()
      .map((name) => this.view(name, nodes[name]!));
  }

  async get(name: string, withStats = true): Promise<NodeView> {
    const record = this.record(name);
    this.observe(name, (await this.deps.driver.inspect(name)) ?? undefined);
    const view = this.view(name, record);
    if (withStats) {
      view.stats = view.state === 'running' ? await this.deps.driver.stats(name).catch(() => null) : null;
      const traffic = await this.deps.trafficCounters?.(name).catch(() => undefined);
      view.traffic = traffic ? { egress: traffic.egress, ingress: traffic.ingress } : null;
      view.volumeUsage = await volumeUsage(this.deps.context.storage, record.spec);
    }
    return view;
  }

  summary(): Record<string, number> {
    const views = this.list();
    const count = (state: string) => views.filter((v) => v.state === state).length;
    return {
      total: views.length,
      running: count('running'),
      stopped: count('stopped'),
      failing: views.filter((v) => v.error).length,
      unmanaged: this.unmanagedNames.length,
    };
  }

  /** Init pids of the nodes last seen running (the subsystem watches them for exits). */
  runningPids(): number[] {
    return [...this.observed.values()].filter((o) => o.state === 'running' && o.pid).map((o) => o.pid!);
  }

  failing(): string[] {
    return this.failures.list();
  }

  /** The node's failure streak, or null while its last change succeeded. */
  retryState(name: string): NodeRetry | null {
    return this.failures.get(name);
  }

  // ---- actions ----

  async create(input: unknown): Promise<NodeView> {
    const spec = validateSpec(input);
    const { name } = spec;
    if (spec.network) this.deps.validatePolicy?.(name, spec.network);
    if (spec.replicas) this.deps.checkReplicas?.(name, spec.replicas);
    if (spec.orchestrator) this.deps.checkOrchestrator?.(spec.orchestrator);
    const volumesExisted = (await this.deps.context.storage.listVolumes(name)).length > 0;
    await this.admission.run('admit', async () => {
      const state = this.deps.doc.get();
      if (recordOf(state, name)) throw new ConflictError('NODE_EXISTS', `node ${name} already exists`);
      const existing = await this.deps.driver.inspect(name);
      if (existing && !existing.partial)
        throw new ConflictError('NODE_EXISTS', `a container named ${name} already exists in the station's LXC path (not made by the station)`);
      await this.checkFits(spec, name);
      const address = allocateAddress(
        this.deps.context.subnet,
        name,
        Object.values(state.nodes).map((r) => r.address),
      );
      const now = new Date().toISOString();
      await this.deps.doc.update((draft) => {
        draft.nodes[name] = {
          spec,
          address,
          state: 'running',
          deleting: false,
          deleteVolumes: false,
          builtHash: null,
          createdAt: now,
          updatedAt: now,
        };
      });
    });
    try {
      await this.converge(name);
    } catch (error) {
      // The create failed: the runner removed any container; drop the record (and volume
      // directories this create made) so nothing of the attempt is left.
      await this.locks.run(name, async () => {
        if (await this.deps.driver.inspect(name).catch(() => null)) await this.deps.driver.destroy(name).catch(() => undefined);
        await this.deps.doc.update((draft) => {
          delete draft.nodes[name];
        });
        if (!volumesExisted) await deleteNodeVolumes(this.deps.context.storage, name);
        this.observed.delete(name);
        this.failures.clear(name);
      });
      throw error;
    }
    const record = this.record(name);
    this.deps.events.publish('node.created', { name, address: record.address, template: spec.template, profile: spec.profile });
    return this.get(name, false);
  }

  async patch(name: string, patch: unknown): Promise<NodeView> {
    const record = this.live(name);
    const next = applyPatch(record.spec, patch);
    if ((patch as { network?: unknown }).network) this.deps.validatePolicy?.(name, next.network);
    if ((patch as { replicas?: unknown }).replicas && next.replicas) this.deps.checkReplicas?.(name, next.replicas);
    if ((next.resources.memoryMB ?? 0) > (record.spec.resources.memoryMB ?? 0) || (next.resources.cpus ?? 0) > (record.spec.resources.cpus ?? 0))
      await this.checkFits(next, name);
    await this.setRecord(name, { spec: next });
    try {
      await this.converge(name);
    } catch (error) {
      // The new build failed (the runner removed what it made): go back to the spec that worked.
      await this.setRecord(name, { spec: record.spec });
      this.failures.clear(name);
      await this.converge(name).catch((again: Error) =>
        this.deps.log.error({ node: name, err: again }, 'restoring the previous spec failed; the reconcile loop retries'),
      );
      throw error;
    }
    this.deps.events.publish('node.updated', { name, fields: Object.keys(patch as object) });
    return this.get(name, false);
  }

  async remove(name: string, options: { volumes: boolean }): Promise<{ name: string; deleted: true; volumesDeleted: boolean }> {
    if (this.record(name).spec.replicas) this.deps.removing?.(name);
    await this.setRecord(name, { deleting: true, deleteVolumes: options.volumes });
    await this.converge(name);
    this.observed.delete(name);
    this.failures.clear(name);
    this.deps.events.publish('node.deleted', { name, volumesDeleted: options.volumes });
    return { name, deleted: true, volumesDeleted: options.volumes };
  }

  async start(name: string): Promise<NodeView> {
    this.live(name);
    await this.setRecord(name, { state: 'running' });
    await this.converge(name);
    return this.get(name, false);
  }

  async stop(name: string, options: { timeoutSeconds?: number } = {}): Promise<NodeView> {
    this.live(name);
    await this.setRecord(name, { state: 'stopped' });
    await this.converge(name, options.timeoutSeconds);
    return this.get(name, false);
  }

  async restart(name: string, options: { timeoutSeconds?: number } = {}): Promise<NodeView> {
    this.live(name);
    await this.setRecord(name, { state: 'running' });
    await this.locks.run(name, async () => {
      const observed = await this.deps.driver.inspect(name);
      const steps: Step[] = [];
      if (observed?.state === 'running') steps.push({ op: 'stop', name, reason: 'restart' });
      if (observed && !observed.partial) steps.push({ op: 'start', name, reason: 'restart' });
      await this.execute(name, steps, options.timeoutSeconds);
    });
    await this.converge(name);
    return this.get(name, false);
  }

  async recreate(name: string, options: { timeoutSeconds?: number } = {}): Promise<NodeView> {
    const record = this.live(name);
    await this.locks.run(name, () =>
      this.execute(name, [{ op: 'recreate', name, start: record.state === 'running', reason: 'recreate requested' }], options.timeoutSeconds),
    );
    await this.converge(name);
    return this.get(name, false);
  }

  async exec(name: string, command: string[], options: NodeExecOptions = {}): Promise<NodeExecResult> {
    this.live(name);
    if (!command.length || !command[0]) throw new ValidationError('INVALID_REQUEST', 'command must be a non-empty argv array');
    await this.requireRunning(name);
    return this.deps.driver.exec(name, command, { ...options, timeoutMs: options.timeoutMs ?? EXEC_TIMEOUT_MS });
  }

  async logs(name: string, lines: number): Promise<string> {
    this.record(name);
    return this.deps.driver.logs(name, { lines });
  }

  async stats(name: string): Promise<{ name: string; state: NodeView['state']; stats: NodeStats | null }> {
    const view = await this.get(name, true);
    return { name, state: view.state, stats: view.stats ?? null };
  }

  // ---- convergence ----

  /** One reconcile pass over every node: the loop calls this at start, periodically and on LXC changes. */
  async reconcileAll(): Promise<void> {
    const observedList = await this.deps.driver.list();
    const seen = new Set(observedList.map((o) => o.name));
    for (const o of observedList) this.observe(o.name, o);
    for (const name of [...this.observed.keys()]) if (!seen.has(name)) this.observe(name, undefined);
    const records = this.deps.doc.get().nodes;
    const desired = Object.entries(records).map(([name, r]) => toDesired(name, r, this.hashOf(r)));
    this.unmanagedNames = unmanaged(desired, observedList);
    for (const name of plan(desired, observedList).keys()) {
      if (!this.failures.due(name)) continue;
      try {
        await this.converge(name);
      } catch (error) {
        this.deps.log.warn({ node: name, err: error }, 'reconcile of node failed; will retry');
      }
    }
  }

  /** Makes one node match its desired state (under its lock); returns the steps it took. */
  async converge(name: string, stopTimeoutSeconds?: number): Promise<Step[]> {
    return this.locks.run(name, async () => {
      const observed = (await this.deps.driver.inspect(name)) ?? undefined;
      this.observe(name, observed);
      const record = recordOf(this.deps.doc.get(), name);
      let steps = planNode(record && toDesired(name, record, this.hashOf(record)), observed);
      const starts = steps.some((s) => s.op === 'start' || (s.op === 'recreate' && s.start));
      if (starts && record?.spec.replicas && this.deps.mayStart && !(await this.deps.mayStart(name))) steps = withoutStarting(steps);
      await this.execute(name, steps, stopTimeoutSeconds);
      return steps;
    });
  }

  private async execute(name: string, steps: Step[], stopTimeoutSeconds = DEFAULT_STOP_TIMEOUT_S): Promise<void> {
    if (!steps.length) return;
    try {
      await this.runner.run(name, steps, { stopTimeoutSeconds });
      this.failures.clear(name);
    } catch (error) {
      // the loop skips the node until its pause is over (retries.ts)
      this.failures.failed(name, (error as Error).message);
      this.deps.events.publish('node.error', { name, message: (error as Error).message });
      throw error;
    } finally {
      this.observe(name, (await this.deps.driver.inspect(name).catch(() => null)) ?? undefined);
    }
  }

  // ---- helpers ----

  private hashOf(record: NodeRecord): string {
    return buildHash(toBuild(record.spec, record.address, this.deps.context));
  }

  /** Updates the observed cache and announces state changes on the event bus. */
  private observe(name: string, node: ObservedNode | undefined): void {
    const before = this.observed.get(name)?.state ?? 'missing';
    if (node) this.observed.set(name, node);
    else this.observed.delete(name);
    const after = node?.state ?? 'missing';
    if (before !== after) this.deps.events.publish('node.state', { name, state: after, previous: before });
  }

  private view(name: string, record: NodeRecord): NodeView {
    const view = nodeView(name, record, this.observed.get(name), this.failures.message(name), this.deps.station);
    if (this.deps.danglingReferences) {
      const nodes = this.deps.doc.get().nodes;
      view.danglingReferences = this.deps.danglingReferences(
        name,
        record.spec.network,
        Object.keys(nodes).filter((n) => !nodes[n]!.deleting),
      );
    }
    return view;
  }

  private record(name: string): NodeRecord {
    const record = recordOf(this.deps.doc.get(), name);
    if (!record) throw new NotFoundError('NODE_NOT_FOUND', `no node named ${name}`);
    return record;
  }

  /** A record that is not being deleted. */
  private live(name: string): NodeRecord {
    const record = this.record(name);
    if (record.deleting) throw new ConflictError('NODE_DELETING', `node ${name} is being deleted`);
    return record;
  }

  private async requireRunning(name: string): Promise<void> {
    const observed = await this.deps.driver.inspect(name);
    this.observe(name, observed ?? undefined);
    if (observed?.state !== 'running') throw new ConflictError('NODE_NOT_RUNNING', `node ${name} is ${observed?.state ?? 'missing'}; start it first`);
  }

  private async setRecord(name: string, change: Partial<NodeRecord>): Promise<void> {
    await this.deps.doc.update((draft) => {
      const record = recordOf(draft, name);
      if (record) draft.nodes[name] = { ...record, ...change, updatedAt: new Date().toISOString() };
    });
  }

  private async checkFits(spec: NodeSpec, name: string): Promise<void> {
    const host = await readHostCapacity(this.deps.station.lxcPath);
    const others = Object.entries(this.deps.doc.get().nodes)
      .filter(([n, r]) => n !== name && !r.deleting)
      .reduce((sum, [, r]) => sum + (r.spec.resources.memoryMB ?? 0), 0);
    checkCapacity({ name, template: spec.template, ...spec.resources }, host, others);
  }
}

/** The steps with every start left out (a replicated node waiting for its lease stays stopped). */
function withoutStarting(steps: Step[]): Step[] {
  return steps.filter((s) => s.op !== 'start').map((s) => (s.op === 'recreate' ? { ...s, start: false } : s));
}
