// The receiving side of fencing: per replicated node, the highest token (the lease key's create
// revision, node-lease.ts) a stream has carried here. A stream with a smaller token comes from a
// holder that lost the lease (an old Active back from a partition) and is refused before a byte of
// it reaches btrfs. Kept in stateDir/replicas/tokens.json, written before the stream is read, so a
// restart cannot forget a newer holder.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, ValidationError } from '../../errors.ts';
import { SerialQueue } from '../../lib/serial-queue.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';

export class FencingTokens {
  private readonly file: string;
  private tokens: Record<string, number> | null = null;
  // one at a time, so two holders racing cannot both pass on the same old value
  private readonly queue = new SerialQueue();

  constructor(stateDir: string) {
    this.file = join(stateDir, 'replicas', 'tokens.json');
  }

  /**
   * Admits a stream for `node` carrying `token`: refused (ConflictError STALE_FENCING_TOKEN) when a
   * higher one was seen, else recorded as the highest.
   */
  async admit(node: string, token: number): Promise<void> {
    if (!Number.isSafeInteger(token) || token < 1)
      throw new ValidationError('INVALID_FENCING_TOKEN', `the fencing token must be a positive integer, not ${token}`);
    await this.queue.run(async () => {
      const tokens = await this.load();
      // own properties only: a node may be named like an Object property (constructor)
      const seen = Object.hasOwn(tokens, node) ? (tokens[node] ?? 0) : 0;
      if (token < seen) {
        const message = `node ${node}: this stream's fencing token ${token} is older than ${seen}; its sender no longer holds the lease`;
        throw new ConflictError('STALE_FENCING_TOKEN', message, { token, highest: seen });
      }
      if (token > seen) {
        tokens[node] = token;
        await writeFileAtomic(this.file, `${JSON.stringify(tokens, null, 2)}\n`, 0o600);
      }
    });
  }

  private async load(): Promise<Record<string, number>> {
    if (!this.tokens) {
      const text = await readFile(this.file, 'utf8').catch(() => null);
      this.tokens = text ? (JSON.parse(text) as Record<string, number>) : {};
    }
    return this.tokens;
  }
}
