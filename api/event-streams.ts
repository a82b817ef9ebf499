// The open /events streams: at most `maxEventStreams` at once, each allowed to fall only so far
// behind. A client that stops reading (a sleeping phone, or on purpose) would otherwise make the
// agent buffer every event for it forever; past the backlog limit it is dropped and may reconnect
// with Last-Event-ID.
import type { ServerResponse } from 'node:http';
import type { Sample } from '../agent/metrics.ts';
import type { HttpLimits } from './http-limits.ts';

export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly limits: Pick<HttpLimits, 'maxEventStreams' | 'maxEventBacklogBytes'>;
  private droppedTotal = 0;
  private refusedTotal = 0;

  constructor(limits: Pick<HttpLimits, 'maxEventStreams' | 'maxEventBacklogBytes'>) {
    this.limits = limits;
  }

  /** Takes a place for a new stream; false (counted) when every place is taken. */
  admit(res: ServerResponse): boolean {
    if (this.open.size >= this.limits.maxEventStreams) {
      this.refusedTotal++;
      return false;
    }
    this.open.add(res);
    return true;
  }

  /** Writes to one stream, or drops the client when what waits for it has passed the limit. */
  write(res: ServerResponse, text: string): void {
    if (res.destroyed) return;
    res.write(text);
    if (res.writableLength > this.limits.maxEventBacklogBytes) {
      this.droppedTotal++;
      this.open.delete(res);
      res.destroy(); // frees the backlog now; the close handlers unsubscribe
    }
  }

  release(res: ServerResponse): void {
    this.open.delete(res);
  }

  closeAll(): void {
    for (const res of this.open) res.end();
  }

  samples(): Sample[] {
    return [
      { name: 'station_event_clients', help: 'open /events streams', type: 'gauge', value: this.open.size },
      {
        name: 'station_event_clients_refused_total',
        help: '/events streams refused because every place was taken',
        type: 'counter',
        value: this.refusedTotal,
      },
      {
        name: 'station_event_clients_dropped_total',
        help: '/events clients dropped because they stopped reading',
        type: 'counter',
        value: this.droppedTotal,
      },
    ];
  }
}
