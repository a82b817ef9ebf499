// A double of a node's command line for the orchestrator room's unit tests: it records every command
// the agent runs in the node (with its input, streamed input and secrets) and answers through a
// handler the test gives, with output recorded from the engine (test/fixtures/).
import type { Readable } from 'node:stream';
import type { NodeExecOptions, NodeExecResult } from '../../agent/nodes/driver.ts';

export interface RecordedCall {
  command: string;
  input?: string;
  /** what was streamed in (a bundle file) */
  streamed?: string;
  secrets: readonly string[];
}

export const ok = (stdout = ''): NodeExecResult => ({ exitCode: 0, stdout, stderr: '' });
export const fail = (stderr: string, exitCode = 1): NodeExecResult => ({ exitCode, stdout: '', stderr });

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('latin1');
}

export function nodeDouble(answer: (line: string, call: RecordedCall) => NodeExecResult) {
  const calls: RecordedCall[] = [];
  const exec = async (_node: string, command: string[], options: NodeExecOptions = {}): Promise<NodeExecResult> => {
    const call: RecordedCall = { command: command.join(' '), secrets: options.secrets ?? [] };
    if (options.input !== undefined) call.input = options.input;
    if (options.stdinStream) call.streamed = await readAll(options.stdinStream);
    calls.push(call);
    return answer(call.command, call);
  };
  return { exec, calls, lines: () => calls.map((c) => c.command) };
}

/**
 * The double's files: what `sh -c '... cat > PATH.part ...'` wrote (from input or stream) and `cat
 * PATH` reads back. Returns null for a command that is not one of these, so the test answers it.
 */
export function fileAnswers(files: Map<string, string>) {
  return (line: string, call: RecordedCall): NodeExecResult | null => {
    const written = /cat > '([^']+)\.part'/.exec(line);
    if (line.startsWith('sh -c') && written) {
      files.set(written[1]!, call.input ?? call.streamed ?? '');
      return ok();
    }
    const read = /^cat (\S+)$/.exec(line);
    if (read) return files.has(read[1]!) ? ok(files.get(read[1]!)) : fail(`cat: ${read[1]}: No such file or directory`);
    return null;
  };
}
