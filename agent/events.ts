// The station's event bus: subsystems publish what changed; /api/v1/events streams it (SSE) and
// the status page renders it live. A short history lets a reconnecting client catch up.
// Names and payloads are typed by the one event map (agent/event-map.ts).
import { EventEmitter } from 'node:events';
import type { EventName, StationEvent, StationEvents } from './event-map.ts';

export type { EventName, StationEvent, StationEvents } from './event-map.ts';

const HISTORY = 200;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly history: StationEvent[] = [];
  private nextId = 1;

  constructor() {
    // Every open /events connection is a listener; the page, CLI watchers and tests add up.
    this.emitter.setMaxListeners(0);
  }

  publish<K extends EventName>(type: K, data: StationEvents[K]): StationEvent & { type: K } {
    // TypeScript cannot tie `type` to `data` inside a generic body; the signature does it for callers.
    const event = { id: this.nextId++, type, at: new Date().toISOString(), data } as StationEvent & { type: K };
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    this.emitter.emit('event', event);
    return event;
  }

  /** Calls `listener` for every event from now on; returns the function that stops it. */
  subscribe(listener: (event: StationEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events newer than `lastId` still in the history (for Last-Event-ID resumption). */
  since(lastId: number): StationEvent[] {
    return this.history.filter((e) => e.id > lastId);
  }
}
