// A running agent as a user reaches it from inside a test namespace: through the station CLI, and
// through the events it still holds (its short history), read as a page would: GET /events with
// Last-Event-ID 1 replays everything since event 1, and curl's --max-time cuts the endless stream.
import { join } from 'node:path';
import { exec, type ExecResult } from '../../agent/exec.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * `station ARGS...` against the agent at `baseUrl()` (asked at each call: a test may start the agent
 * again on another port), whose state dir holds the admin token; a failure is returned, not thrown.
 */
export function stationCli(netns: string, baseUrl: () => string, stateDir: string): (...args: string[]) => Promise<ExecResult> {
  return (...args) =>
    exec([process.execPath, join(ROOT, 'scripts/cli/main.ts'), ...args], {
      netns,
      allowFailure: true,
      timeoutMs: 60_000,
      env: { STATION_URL: baseUrl(), STATION_STATE_DIR: stateDir },
    });
}

export interface PastEvents<D> {
  events: { type: string; data: D }[];
  /** the stream as curl read it (for assertion messages) */
  raw: string;
}

/** The events replayed by the agent at `baseUrl`, asked from inside the network namespace `netns`. */
export async function pastEvents<D = Record<string, unknown>>(netns: string, baseUrl: string): Promise<PastEvents<D>> {
  const out = await exec(['curl', '-sN', '--max-time', '1', '-H', 'Last-Event-ID: 1', `${baseUrl}/api/v1/events`], {
    netns,
    allowFailure: true,
    timeoutMs: 10_000,
  });
  const events = out.stdout
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { type: string; data: D });
  return { events, raw: out.stdout };
}
