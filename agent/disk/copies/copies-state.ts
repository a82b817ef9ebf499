// What the copies remember, per node and copy, in stateDir/disk/copies.json (mode 0600: it holds
// the peers' grant passwords, which open their stores but not the data: that needs the owner's key).
// Written atomically after every change, so a killed agent finds the last whole state.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../store/atomic-file.ts';
import type { Repository } from './restic.ts';

/** A peer store's grant (POST /disk/store/grant): where and as whom this station writes there. */
export interface GrantRecord {
  /** rest:http://ADDR:PORT/<user>/ */
  repositoryBase: string;
  user: string;
  password: string;
}

export interface CopyRecord extends GrantRecord {
  station: string;
  /** the repository's directory under repositoryBase: the node's name, or NAME.N for a replacement made on the same store */
  repository: string;
  /** init done (ours, opened with the owner's key) */
  initialized: boolean;
  placedAt: string;
  lastSuccess: string | null;
  /** restic's short id of the newest snapshot this copy holds */
  lastSnapshot: string | null;
  /** the snapshot set it was made from, and when that set was taken (for the lag) */
  lastSet: string | null;
  lastSetAt: string | null;
  bytes: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lastCheck: string | null;
  /** a check found damage, or the repository is not ours: replaced, never written again */
  damaged: boolean;
}

export interface CopiesFile {
  version: 1;
  nodes: Record<string, CopyRecord[]>;
  /** per node, STATION/REPOSITORY of damaged repositories: never written again, a new copy there takes another name */
  retired?: Record<string, string[]>;
}

export const copiesFile = (stateDir: string): string => join(stateDir, 'disk', 'copies.json');

export async function loadCopies(stateDir: string): Promise<CopiesFile> {
  const text = await readFile(copiesFile(stateDir), 'utf8').catch(() => null);
  if (!text) return { version: 1, nodes: {} };
  const parsed = JSON.parse(text) as CopiesFile;
  if (parsed?.version !== 1 || typeof parsed.nodes !== 'object') throw new Error(`${copiesFile(stateDir)} is not a copies file of version 1`);
  return parsed;
}

export async function saveCopies(stateDir: string, state: CopiesFile): Promise<void> {
  await writeFileAtomic(copiesFile(stateDir), `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

/** The repository URL with the grant in it (secret: restic gets it through its environment only). */
export function repositoryOf(grant: GrantRecord, repository: string, label: string): Repository {
  const base = grant.repositoryBase.replace(/\/?$/, '/');
  const match = /^rest:(https?):\/\/([^/@]+)(\/.*)$/.exec(base);
  if (!match) throw new Error(`${label}: the store gave a repository base that is not rest:http://HOST:PORT/PATH/`);
  const [, scheme, hostPort, path] = match;
  const auth = `${encodeURIComponent(grant.user)}:${encodeURIComponent(grant.password)}`;
  return { url: `rest:${scheme}://${auth}@${hostPort}${path}${repository}/`, label };
}
