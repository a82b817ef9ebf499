import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { NODE_FLAGS, NODE_ENV, reexecPlan } from '../../../agent/process-settings.ts';

const NODE = '/usr/bin/node-x';
const SETTINGS = new URL('../../../agent/process-settings.ts', import.meta.url).pathname;

test('a plain `node main.js` is re-executed with the flags before the script and the environment added', () => {
  const plan = reexecPlan(NODE, [], [NODE, '/app/main.js', '--x'], { PATH: '/bin' });
  assert.ok(plan);
  assert.equal(plan.argv, [NODE, ...NODE_FLAGS, '/app/main.js', '--x']);
  for (const [k, v] of Object.entries(NODE_ENV)) assert.is(plan.env[k], v);
  assert.is(plan.env.PATH, '/bin');
});

test('a process started with the settings is left alone', () => {
  assert.is(reexecPlan(NODE, [...NODE_FLAGS], [NODE, '/app/main.js'], { ...NODE_ENV }), null);
  assert.is(reexecPlan(NODE, [], [NODE, '/app/main.js'], { ...NODE_ENV, NODE_OPTIONS: NODE_FLAGS.join(' ') }), null);
});

test('values the person starting the agent chose are kept', () => {
  const [flag] = NODE_FLAGS;
  const [envName] = Object.keys(NODE_ENV);
  const mine = `${flag!.split('=')[0]}=64`;
  const plan = reexecPlan(NODE, [mine, '--import', 'x.mjs'], [NODE, '/app/main.js'], {});
  assert.ok(plan, 'the environment is still missing');
  assert.ok(plan.argv.includes(mine) && !plan.argv.includes(flag!));
  assert.equal(plan.argv.slice(-3), ['--import', 'x.mjs', '/app/main.js']);
  const planEnv = reexecPlan(NODE, [], [NODE, '/app/main.js'], { [envName!]: '8' });
  assert.ok(planEnv, 'the flags are still missing');
  assert.is(planEnv.env[envName!], '8');
});

test('a tier switched back on by the person starting the agent stays on', () => {
  const plan = reexecPlan(NODE, ['--maglev'], [NODE, '/app/main.js'], {});
  assert.ok(plan);
  assert.ok(plan.argv.includes('--maglev') && !plan.argv.includes('--no-maglev'));
});

test('the re-executed process is never re-executed again', () => {
  assert.is(reexecPlan(NODE, [], [NODE, '/app/main.js'], { STATION_PROCESS_SETTINGS: '1' }), null);
});

test('a real process is replaced in place: same pid, flags and environment applied, marker gone', () => {
  const script = `import { applyProcessSettings } from ${JSON.stringify(SETTINGS)};
    applyProcessSettings();
    console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, env: process.env }));`;
  const env = { ...process.env };
  for (const k of [...Object.keys(NODE_ENV), 'NODE_OPTIONS', 'STATION_PROCESS_SETTINGS']) delete env[k];
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  const seen = JSON.parse(child.stdout) as { pid: number; execArgv: string[]; env: Record<string, string> };
  assert.is(seen.pid, child.pid);
  for (const f of NODE_FLAGS) assert.ok(seen.execArgv.includes(f), `${f} in ${seen.execArgv.join(' ')}`);
  for (const [k, v] of Object.entries(NODE_ENV)) assert.is(seen.env[k], v);
  assert.is(seen.env.STATION_PROCESS_SETTINGS, undefined);
});

test.run();
