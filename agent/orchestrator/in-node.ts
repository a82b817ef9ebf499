// A node's command line as the orchestrator room uses it (NodeService.exec bound to one node): commands
// whose failure throws, naming what failed and what the node said; files written whole (aside, then
// renamed); host files streamed in. Secrets given are blanked out of every result and error.
import type { Readable } from 'node:stream';
import type { NodeExecOptions, NodeExecResult } from '../nodes/driver.ts';

/** Runs a command in a node (NodeService.exec). */
export type NodeExec = (node: string, command: string[], options?: NodeExecOptions) => Promise<NodeExecResult>;

/** A command in a node that failed: what it was for, its exit and the last of what it said. */
export class NodeCommandError extends Error {
  constructor(what: string, result: NodeExecResult) {
    const said = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' ');
    super(`${what} failed (exit ${result.exitCode}): ${said || 'no output'}`);
  }
}

/** A host file to stream into a node (a bundle's). */
export interface StreamSource {
  name: string;
  open(): Readable;
}

const dirOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

export class InNode {
  /** the node's command line: NodeService.exec bound to the node */
  private readonly exec: (command: string[], options: NodeExecOptions) => Promise<NodeExecResult>;

  constructor(exec: NodeExec, node: string) {
    this.exec = (command, options) => exec(node, command, options);
  }

  run(command: string[], options: NodeExecOptions = {}): Promise<NodeExecResult> {
    return this.exec(command, { timeoutMs: 60_000, ...options });
  }

  async must(command: string[], what: string, options: NodeExecOptions = {}): Promise<string> {
    const result = await this.run(command, options);
    if (result.exitCode !== 0) throw new NodeCommandError(what, result);
    return result.stdout;
  }

  /**
   * Writes `content` to `path` in the node, replacing it whole: mode 0600 (it may hold a token), or
   * 0644 when a service that is not root reads it.
   */
  writeFile(path: string, content: string, o: { secrets?: readonly string[]; readable?: boolean } = {}): Promise<string> {
    const script = `set -e; umask ${o.readable ? '022' : '077'}; mkdir -p '${dirOf(path)}'; cat > '${path}.part'; mv '${path}.part' '${path}'`;
    return this.must(['sh', '-c', script], `writing ${path}`, { input: content, secrets: o.secrets ?? [] });
  }

  /** Streams a host file into the node at `path` with `mode`, replacing it whole. */
  copyIn(source: StreamSource, path: string, mode: string): Promise<string> {
    const script = `set -e; mkdir -p '${dirOf(path)}'; cat > '${path}.part'; chmod ${mode} '${path}.part'; mv '${path}.part' '${path}'`;
    return this.must(['sh', '-c', script], `copying ${source.name} into the node`, { stdinStream: source.open(), timeoutMs: 600_000 });
  }
}
