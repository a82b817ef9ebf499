// One thing at a time: the one queue the agent uses wherever work must not overlap (changes to one
// node, enrolments at the mesh authority, replacing the nft table). A task starts when the one
// before it has finished, whether that one succeeded or failed; each caller gets its own result.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const next = this.tail.then(task, task).finally(() => {
      this.waiting--;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** A task is running or waiting. */
  get busy(): boolean {
    return this.waiting > 0;
  }
}

/** A SerialQueue per key: work on one key runs alone while different keys proceed independently. */
export class KeyedSerialQueue {
  private readonly queues = new Map<string, SerialQueue>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = new SerialQueue()));
    const done = (): void => {
      if (!queue.busy && this.queues.get(key) === queue) this.queues.delete(key);
    };
    return queue.run(task).finally(done);
  }

  busy(key: string): boolean {
    return this.queues.get(key)?.busy ?? false;
  }
}
