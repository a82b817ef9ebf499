// A testbed station's GET /api/v1/events (server-sent events), recorded from now on by a curl in the
// station's namespace (its API answers there only), each event with when this process received it.
// The Infinite Disk and replicas tests (test/helpers/disk-testbed.ts) and the replicas benchmark
// (scripts/bench/replicas) read what it recorded; stop() ends the curl by its pid.
import { type ChildProcess, spawn } from 'node:child_process';
import type { StationRecord } from './stations.ts';

export interface SeenEvent {
  id: number;
  type: string;
  at: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads differ by type (docs/api.md)
  data: any;
  /** when this process received it (ms since the epoch) */
  receivedAt: number;
}

export class StationEventStream {
  readonly events: SeenEvent[] = [];
  /** the station answered (its first line, `: connected`, arrived) */
  connected = false;
  private readonly child: ChildProcess;
  private partial = '';

  constructor(st: StationRecord) {
    this.child = spawn('ip', ['netns', 'exec', st.netns, 'curl', '-sSN', '--max-time', '3600', `${st.api}/api/v1/events`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.take(chunk));
  }

  private take(chunk: string): void {
    this.connected = true;
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('data: ')) continue;
      try {
        this.events.push({ ...JSON.parse(line.slice(6)), receivedAt: Date.now() });
      } catch {
        /* a line that is not an event */
      }
    }
  }

  stop(): void {
    if (this.child.exitCode !== null || !this.child.pid) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
