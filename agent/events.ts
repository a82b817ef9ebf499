// The station's event bus: subsystems publish what changed; /api/v1/events streams it (SSE) and
// the status page renders it live. A short history lets a reconnecting client catch up.
// Names and payloads are typed by the one event map (agent/event-map.ts).
import { EventEmitter } from 'node:events';
import type { EventName, StationEvent, StationEvents } from './event-map.ts';

export type { EventName, StationEvent, StationEvents } from './event-map.ts';

const HISTORY = 200;

/** The room an event comes from: the part of its name before the first dot ('node' for node.created). */
export type EventArea = EventName extends `${infer Area}.${string}` ? Area : never;

/** The events of one area, e.g. every node.* event. */
export type AreaEvent<A extends EventArea> = Extract<StationEvent, { type: `${A}.${string}` }>;

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

  /** Calls `listener` for every event of one area from now on (node.*, mesh.*: a room following another); returns the stop function. */
  subscribeArea<A extends EventArea>(area: A, listener: (event: AreaEvent<A>) => void): () => void {
    return this.subscribe((event) => {
      if (event.type.startsWith(`${area}.`)) listener(event as AreaEvent<A>);
    });
  }

  /** Events newer than `lastId` still in the history (for Last-Event-ID resumption). */
  since(lastId: number): StationEvent[] {
    return this.history.filter((e) => e.id > lastId);
  }
}
