// The station's event bus: subsystems publish what changed; /api/v1/events streams it (SSE) and
// the status page renders it live. A short history lets a reconnecting client catch up.
import { EventEmitter } from 'node:events';

export interface StationEvent {
  id: number;
  type: string;          // e.g. node.created, node.state, hardware.updated, mesh.peer
  at: string;            // ISO time
  data: Record<string, unknown>;
}

const HISTORY = 200;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly history: StationEvent[] = [];
  private nextId = 1;

  constructor() {
    // Every open /events connection is a listener; the page, CLI watchers and tests add up.
    this.emitter.setMaxListeners(0);
  }

  publish(type: string, data: Record<string, unknown> = {}): StationEvent {
    const event: StationEvent = { id: this.nextId++, type, at: new Date().toISOString(), data };
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
