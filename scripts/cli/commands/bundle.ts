// station bundle import FILE | bundle ls: offline MicroK8s and K3s bundles (docs/orchestrators.md).
// The file is read by the agent on this station: import runs where the file is.
import { resolve } from 'node:path';
import type { StoredBundle } from '../../../agent/orchestrator/bundles/bundle-store.ts';
import type { Command } from '../command.ts';
import { json, need, readCommand } from '../command.ts';
import { bytes, table } from '../format.ts';

const IMPORT_USAGE = 'bundle import FILE';

export const BUNDLE_COMMANDS: Command[] = [
  readCommand<{ bundles: StoredBundle[] }>(['bundle', 'ls'], 'the offline MicroK8s and K3s bundles imported here', '/orchestrator/bundles', ({ bundles }) =>
    bundles.length
      ? table(
          ['kind', 'version', 'size', 'imported'],
          bundles.map((b) => [b.kind, b.version, bytes(b.bytes), b.importedAt]),
        )
      : 'no bundle imported (station bundle import FILE)',
  ),
  {
    words: ['bundle', 'import'],
    summary: 'check an offline MicroK8s or K3s bundle (a tar made on a connected machine) and keep it',
    usage: IMPORT_USAGE,
    async run(args, client) {
      const path = resolve(need(args.positional[0], IMPORT_USAGE));
      const stored = await client.post<StoredBundle>('/orchestrator/bundles', { path }, { timeoutMs: 15 * 60_000 });
      return args.json ? json(stored) : `imported ${stored.kind} ${stored.version} (${stored.files.join(', ')}; ${bytes(stored.bytes)})`;
    },
  },
];
