// station node create|ls|show|start|stop|restart|rm|exec|logs: Disposable Nodes from the command line.
import { readFileSync } from 'node:fs';
import type { Command, ParsedArgs } from '../command.ts';
import { json, need } from '../command.ts';
import { CliError, type AgentClient } from '../client.ts';
import { table, bytes, keyValues } from '../format.ts';
import type { NodeView } from '../../../agent/nodes/service.ts';
import type { OrchestratorReport } from '../../../agent/orchestrator/orchestrator-subsystem.ts';
import { orchestratorLine } from '../orchestrator-line.ts';

const flag = (args: ParsedArgs, name: string): string | undefined => {
  const v = args.flags[name];
  if (typeof v === 'boolean') throw new CliError(`--${name} needs a value`, 2);
  return v;
};

const number = (args: ParsedArgs, name: string): number | undefined => {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number (got ${v})`, 2);
  return n;
};

/** Builds the spec from --file and the flags (flags win over the file). */
const CREATE_USAGE = 'node create NAME [--template busybox|debian] [--profile plain|nesting|microk8s] [--memory MB] [--cpus N] [--run CMD] [--file spec.json]';

export function specFromArgs(args: ParsedArgs): Record<string, unknown> {
  const file = flag(args, 'file');
  let spec: Record<string, unknown> = {};
  if (file) {
    try {
      spec = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`cannot read the spec from ${file}: ${(error as Error).message}`, 2);
    }
  }
  const name = args.positional[0] ?? (spec.name as string | undefined);
  if (!name) throw new CliError(`missing NAME (or "name" in --file)\nusage: station ${CREATE_USAGE}`, 2);
  spec.name = name;
  const template = flag(args, 'template');
  const profile = flag(args, 'profile');
  if (template) spec.template = template;
  if (profile) spec.profile = profile;
  const memoryMB = number(args, 'memory');
  const cpus = number(args, 'cpus');
  if (memoryMB !== undefined || cpus !== undefined) {
    spec.resources = {
      ...(spec.resources as object),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
    };
  }
  const run = flag(args, 'run');
  if (run) spec.modules = [...((spec.modules as unknown[]) ?? []), { name: 'main', run }];
  return spec;
}

/** Follows /events while `work` runs and prints the node's progress lines (template builds). */
export async function withProgress<T>(client: AgentClient, node: string, work: Promise<T>): Promise<T> {
  const controller = new AbortController();
  const follow = (async () => {
    try {
      const response = await fetch(`${client.baseUrl}/api/v1/events`, { signal: controller.signal });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const event = JSON.parse(data.slice(6)) as {
            type: string;
            data: { name?: string; message?: string; template?: string; state?: string };
          };
          if (event.data.name !== node) continue;
          if (event.type === 'node.progress') process.stderr.write(`  ${event.data.template}: ${event.data.message}\n`);
          if (event.type === 'node.state') process.stderr.write(`  ${node}: ${event.data.state}\n`);
        }
      }
    } catch {
      /* the stream ends when the work is done */
    }
  })();
  try {
    return await work;
  } finally {
    controller.abort();
    await follow;
  }
}

function showNode(node: NodeView & { orchestrator?: OrchestratorReport | null }): string {
  const s = node.spec;
  const pairs: [string, string | number | null][] = [
    ['name', node.name],
    ['state', node.state === node.desiredState ? node.state : `${node.state} (wanted ${node.desiredState})`],
    ['address', node.address],
    ['fqdn', node.fqdn],
    ['template', `${s.template}, profile ${s.profile}`],
    ['resources', `${s.resources.cpus ?? 'any'} cpus, ${s.resources.memoryMB ? `${s.resources.memoryMB} MiB` : 'no memory limit'}`],
    ['volumes', s.volumes.map((v) => `${v.name}:${v.path} (${v.class})`).join(', ') || '-'],
    ['modules', s.modules.map((m) => `${m.name}${m.run ? `: ${m.run}` : ''}${m.packages ? ` [${m.packages.join(' ')}]` : ''}`).join('; ') || '-'],
    ['autostart', s.autostart ? 'yes' : 'no'],
    [
      'labels',
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '-',
    ],
  ];
  if (node.stats)
    pairs.push(['usage', `${node.stats.cpuSeconds.toFixed(1)} cpu-s, ${bytes(node.stats.memoryBytes)} memory, ${node.stats.processes} processes`]);
  const orchestrator = orchestratorLine(node.orchestrator);
  if (orchestrator) pairs.push(['orchestrator', orchestrator]);
  if (node.error) pairs.push(['error', node.error]);
  return keyValues(pairs);
}

const LONG = { timeoutMs: 60 * 60_000 };

export const nodeCommands: Command[] = [
  {
    words: ['node', 'create'],
    summary: 'create a node and start it',
    usage: CREATE_USAGE,
    async run(args, client) {
      const spec = specFromArgs(args);
      const node = await withProgress(client, spec.name as string, client.post<NodeView>('/nodes', spec, LONG));
      return args.json ? json(node) : `created ${node.name}: ${node.state}, ${node.address} (${node.fqdn})`;
    },
  },
  {
    words: ['node', 'ls'],
    summary: 'list the nodes of this station',
    async run(args, client) {
      const { nodes } = await client.get<{ nodes: NodeView[] }>('/nodes');
      if (args.json) return json(nodes);
      if (!nodes.length) return 'no nodes';
      return table(
        ['NAME', 'STATE', 'ADDRESS', 'TEMPLATE', 'PROFILE', 'MEMORY', 'ERROR'],
        nodes.map((n) => [
          n.name,
          n.state === n.desiredState ? n.state : `${n.state}->${n.desiredState}`,
          n.address,
          n.spec.template,
          n.spec.profile,
          n.spec.resources.memoryMB ? `${n.spec.resources.memoryMB}M` : '-',
          n.error ?? '',
        ]),
      );
    },
  },
  {
    words: ['node', 'show'],
    summary: 'one node: state, address, spec, usage',
    usage: 'node show NAME',
    async run(args, client) {
      const node = await client.get<NodeView>(`/nodes/${encodeURIComponent(need(args.positional[0], this.usage!))}`);
      return args.json ? json(node) : showNode(node);
    },
  },
  ...(['start', 'stop', 'restart', 'recreate'] as const).map(
    (action): Command => ({
      words: ['node', action],
      summary: {
        start: 'start a node',
        stop: 'stop a node (graceful, forced after --timeout seconds)',
        restart: 'stop and start a node',
        recreate: 'destroy and re-make a node from its spec (volumes kept)',
      }[action],
      usage: `node ${action} NAME${action === 'start' ? '' : ' [--timeout S]'}`,
      async run(args, client) {
        const name = need(args.positional[0], this.usage!);
        const timeout = number(args, 'timeout');
        const node = await withProgress(
          client,
          name,
          client.post<NodeView>(
            `/nodes/${encodeURIComponent(name)}/${action}`,
            timeout === undefined || action === 'start' ? {} : { timeoutSeconds: timeout },
            LONG,
          ),
        );
        return args.json ? json(node) : `${node.name}: ${node.state}`;
      },
    }),
  ),
  {
    words: ['node', 'rm'],
    summary: 'destroy a node (its volumes are kept unless --volumes)',
    usage: 'node rm NAME [--volumes]',
    booleanFlags: ['volumes'],
    async run(args, client) {
      const name = need(args.positional[0], this.usage!);
      const result = await client.delete<{ volumesDeleted: boolean }>(`/nodes/${encodeURIComponent(name)}${args.flags.volumes ? '?volumes=delete' : ''}`);
      return args.json ? json(result) : `removed ${name}${result.volumesDeleted ? ' and its volumes' : ' (volumes kept)'}`;
    },
  },
  {
    words: ['node', 'exec'],
    summary: 'run a command in a node; exits with its exit code',
    usage: 'node exec NAME -- COMMAND [ARGS...]',
    async run(args, client) {
      const [name, ...command] = args.positional;
      if (!name || !command.length) throw new CliError('usage: station node exec NAME -- COMMAND [ARGS...]', 2);
      const result = await client.post<{ exitCode: number; stdout: string; stderr: string }>(`/nodes/${encodeURIComponent(name)}/exec`, { command }, LONG);
      if (args.json) return json(result);
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      if (result.exitCode !== 0) throw new CliError(`command exited with ${result.exitCode}`, result.exitCode);
    },
  },
  {
    words: ['node', 'logs'],
    summary: "the node's recent log lines",
    usage: 'node logs NAME [--lines N]',
    async run(args, client) {
      const name = need(args.positional[0], this.usage!);
      const lines = number(args, 'lines');
      const result = await client.get<{ lines: string[] }>(`/nodes/${encodeURIComponent(name)}/logs${lines ? `?lines=${lines}` : ''}`);
      return args.json ? json(result) : result.lines.join('\n');
    },
  },
];
