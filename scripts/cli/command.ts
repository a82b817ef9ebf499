// What a CLI command is: a name path ("node ls"), a one-line summary, usage, and a handler that
// gets parsed arguments and the agent client and returns what to print (or nothing).
import { type AgentClient, CliError } from './client.ts';

export interface ParsedArgs {
  /** positional arguments after the command words */
  positional: string[];
  /** --flag value / --flag=value / --bool */
  flags: Record<string, string | boolean>;
  json: boolean;
}

export interface Command {
  /** e.g. ['node', 'ls'] */
  words: string[];
  summary: string;
  usage?: string;
  /** flags that take no value (everything else takes one) */
  booleanFlags?: string[];
  run(args: ParsedArgs, client: AgentClient): Promise<string | void>;
}

export function parseArgs(argv: string[], booleanFlags: string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      if (eq !== -1) flags[name] = arg.slice(eq + 1);
      else if (booleanFlags.includes(name) || name === 'json' || argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) flags[name] = true;
      else flags[name] = argv[++i]!;
    } else positional.push(arg);
  }
  return { positional, flags, json: flags.json === true };
}

export const json = (value: unknown): string => JSON.stringify(value, null, 2);

/** A command that reads one API resource and prints it: `show` renders it for people; --json prints the API's document. */
export function readCommand<T>(words: string[], summary: string, path: string, show: (value: T) => string): Command {
  return {
    words,
    summary,
    async run(args, client) {
      const value = await client.get<T>(path);
      return args.json ? json(value) : show(value);
    },
  };
}

/** A required argument's value; without it, exit status 2 and the command's usage (`usage` without "station"). */
export function need(value: string | boolean | undefined, usage: string): string {
  if (typeof value !== 'string' || !value) throw new CliError(`usage: station ${usage}`, 2);
  return value;
}
