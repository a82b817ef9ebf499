// `station`: the command line for people and scripts. It talks to the local agent over its API;
// --json on every read gives machine-readable output.
import { COMMANDS } from './commands/index.ts';
import { parseArgs, type Command } from './command.ts';
import { AgentClient, CliError } from './client.ts';

// Usages longer than this get their own line, with the summary indented below it.
const USAGE_COLUMN = 34;

function help(): string {
  const lines = ['usage: station COMMAND [args] [--json] [--url URL] [--token TOKEN]', ''];
  for (const c of COMMANDS) {
    const usage = c.usage ?? c.words.join(' ');
    if (usage.length <= USAGE_COLUMN) lines.push(`  ${usage.padEnd(USAGE_COLUMN)}  ${c.summary}`);
    else lines.push(`  ${usage}`, `  ${' '.repeat(USAGE_COLUMN)}  ${c.summary}`);
  }
  return lines.join('\n');
}

/** The command whose words are the longest prefix of argv. */
export function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.words.every((w, i) => argv[i] === w) && (!best || c.words.length > best.words.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.words.length) } : undefined;
}

export async function runCli(argv: string[]): Promise<number> {
  if (!argv.length || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${help()}\n`);
    return argv.length ? 0 : 2;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`station: unknown command "${argv.join(' ')}"\n\n${help()}\n`);
    return 2;
  }
  const args = parseArgs(found.rest, found.command.booleanFlags);
  if (args.flags.help) {
    process.stdout.write(`usage: station ${found.command.usage ?? found.command.words.join(' ')}\n${found.command.summary}\n`);
    return 0;
  }
  const client = new AgentClient({ url: args.flags.url as string | undefined, token: args.flags.token as string | undefined });
  try {
    const out = await found.command.run(args, client);
    if (out) process.stdout.write(`${out}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`station: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
