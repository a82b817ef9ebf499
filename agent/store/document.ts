// A durable, versioned JSON document: one per subsystem (nodes.json, mesh.json, ...).
// Writes are atomic and serialised, and memory follows only a write that succeeded; a document
// written by an older agent is migrated forward step by step on load, and one from a newer agent
// is refused rather than misread.
import { readFile, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { StationError } from '../errors.ts';

export type Migration = (data: unknown) => unknown;

export interface DocumentOptions<T> {
  file: string;
  /** The current schema version. */
  version: number;
  /** The content of a document that does not exist yet. */
  initial: () => T;
  /** migrations[n] turns version n into version n+1. */
  migrations?: Record<number, Migration>;
  mode?: number;
}

interface Envelope {
  version: number;
  savedAt: string;
  data: unknown;
}

export class StateDocument<T> {
  readonly file: string;
  private readonly options: DocumentOptions<T>;
  private current: T | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: DocumentOptions<T>) {
    this.options = options;
    this.file = options.file;
  }

  /** Reads the file (migrating it if it is older). Must be called before get/update. */
  async load(): Promise<T> {
    await this.removeStaleTempFiles();
    let text: string | undefined;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) {
      this.current = this.options.initial();
      return this.current;
    }
    const envelope = JSON.parse(text) as Envelope;
    if (typeof envelope.version !== 'number') throw new StationError('internal', 'STATE_CORRUPT', `${this.file}: no version field`);
    if (envelope.version > this.options.version) {
      throw new StationError(
        'internal',
        'STATE_TOO_NEW',
        `${this.file} was written by a newer agent (version ${envelope.version}, this agent knows ${this.options.version})`,
      );
    }
    let data = envelope.data;
    for (let v = envelope.version; v < this.options.version; v++) {
      const migrate = this.options.migrations?.[v];
      if (!migrate) throw new StationError('internal', 'STATE_NO_MIGRATION', `${this.file}: no migration from version ${v}`);
      data = migrate(data);
    }
    this.current = data as T;
    if (envelope.version !== this.options.version) await this.save();
    return this.current;
  }

  /** Temp files of writes cut short by a crash or power loss: never valid, safe to remove before use. */
  private async removeStaleTempFiles(): Promise<void> {
    const prefix = `.${basename(this.file)}.`;
    let names: string[];
    try {
      names = await readdir(dirname(this.file));
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp')).map((n) => rm(join(dirname(this.file), n), { force: true })));
  }

  get(): T {
    if (this.current === undefined) throw new Error(`${this.file} used before load()`);
    return this.current;
  }

  /**
   * Applies `change` to the document and persists it. Updates run one at a time, in call order:
   * each `change` sees what the previous update wrote, and memory takes the new value only once it
   * is on disk, so a failed write (full disk, I/O error) rejects and leaves memory and disk alike.
   */
  update(change: (draft: T) => T | void): Promise<T> {
    this.get(); // used before load(): fail now, not in the queue
    const run = this.writing.then(async () => {
      const draft = structuredClone(this.get());
      const next = (change(draft) ?? draft) as T;
      await this.write(next);
      this.current = next;
      return next;
    });
    this.writing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private save(): Promise<void> {
    const run = this.writing.then(() => this.write(this.get()));
    this.writing = run.catch(() => undefined);
    return run;
  }

  private write(data: T): Promise<void> {
    const envelope: Envelope = { version: this.options.version, savedAt: new Date().toISOString(), data };
    return writeFileAtomic(this.file, `${JSON.stringify(envelope, null, 2)}\n`, this.options.mode);
  }
}
