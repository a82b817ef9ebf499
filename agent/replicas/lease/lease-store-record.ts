// What this station keeps of its place in the owner's lease store: the cluster its etcd member was
// started in (<stateDir>/replicas/lease-store.json). etcd itself keeps the member list in its data
// directory; this record says whether to run a member at all, and how it was first started.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../store/atomic-file.ts';

export interface LeaseStoreRecord {
  /** the owner whose cluster it is (a station that joins another owner's mesh forgets it) */
  owner: string;
  /** name -> peer URL, as --initial-cluster had it */
  cluster: Record<string, string>;
  clusterToken: string;
  /** new: the authority's first member; existing: a member that joined */
  state: 'new' | 'existing';
}

const file = (dir: string): string => join(dir, 'lease-store.json');

export async function readLeaseStoreRecord(dir: string): Promise<LeaseStoreRecord | null> {
  const text = await readFile(file(dir), 'utf8').catch(() => null);
  if (!text) return null;
  const record = JSON.parse(text) as LeaseStoreRecord;
  return record.owner && record.clusterToken && record.cluster ? record : null;
}

export async function writeLeaseStoreRecord(dir: string, record: LeaseStoreRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file(dir), `${JSON.stringify(record, null, 2)}\n`, 0o600);
}
