// A command whose usage names a required argument (NAME, ID, CODE, SSID, ...), run without it:
// exit status 2 with its own usage line, and the agent is never called.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentClient } from '../../../../scripts/cli/client.ts';
import { CliError } from '../../../../scripts/cli/client.ts';
import { parseArgs } from '../../../../scripts/cli/command.ts';
import { COMMANDS } from '../../../../scripts/cli/commands/index.ts';

/** A client that fails the test if a command reaches the agent. */
const untouchable = new Proxy({} as AgentClient, {
  get(_target, method) {
    return () => {
      throw new Error(`the agent was called (${String(method)}) although an argument was missing`);
    };
  },
});

// the first word after the command's own words is a required positional in capitals
const needsPositional = (usage: string, words: string[]) => /^[A-Z][A-Z0-9_/]*$/.test(usage.split(' ')[words.length] ?? '');

const checked = COMMANDS.filter((c) => c.usage && needsPositional(c.usage, c.words));

test('the commands that take a required positional argument are found', () => {
  const names = checked.map((c) => c.words.join(' '));
  for (const expected of [
    'mesh join',
    'mesh revoke',
    'wifi forget',
    'wifi connect',
    'disk unexport',
    'disk restore',
    'disk backup',
    'node replicas',
    'node promote',
    'node move',
  ]) {
    assert.ok(names.includes(expected), `${expected} is among ${names.join(', ')}`);
  }
});

test('without it: exit status 2 with the usage, and nothing sent to the agent', async () => {
  for (const c of checked) {
    const error = await Promise.resolve()
      .then(() => c.run(parseArgs([]), untouchable))
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.instance(error, CliError, `${c.words.join(' ')}: ${String(error)}`);
    assert.is((error as CliError).exitCode, 2, c.words.join(' '));
    assert.is((error as CliError).message.split('\n').at(-1), `usage: station ${c.usage}`, c.words.join(' '));
  }
});

test.run();
