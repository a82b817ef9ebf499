// Restore anywhere: a node brought back on this station from the newest copy it can reach
// (copy-finder.ts): its spec from the copy's spec.json, each volume restored into a new volume of
// this station's driver (through a directory inside the new volume, then renamed into place: one
// file system, no second copy of the data), then the node made through the node service. A node or
// volume of that name here already: refused before anything is written. A failure part-way removes
// the volumes this restore made.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConflictError, UnavailableError, ValidationError } from '../../errors.ts';
import type { EventBus } from '../../events.ts';
import type { VolumeDriver } from '../../storage/driver.ts';
import { LABEL } from '../../storage/layout.ts';
import type { CopyNodes } from './copy-deps.ts';
import type { FindRequest, FoundCopy } from './copy-finder.ts';
import type { Restic } from './restic.ts';

/** How a restored node is made: the node service's create (the lead wires it). */
export interface NodeCreator {
  create(spec: unknown): Promise<unknown>;
}

export interface RestoreResult {
  node: string;
  /** the peer it was read from */
  station: string;
  origin: string;
  snapshot: string;
  time: string;
  volumes: string[];
}

export interface RestoreDeps {
  nodes: CopyNodes;
  events: EventBus;
  restic: Restic;
  find: (r: FindRequest) => Promise<FoundCopy>;
  creator: NodeCreator | null;
}

const MiB = 2 ** 20;
const STAGING = '.station-restore';

async function readSpec(restic: Restic, found: FoundCopy): Promise<{ name: string; volumes?: { name: string; sizeMB?: number }[] }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  await restic.dump(found.repo, found.snapshot.id, '/spec.json', out);
  const spec = JSON.parse(text);
  if (typeof spec?.name !== 'string' || !LABEL.test(spec.name)) throw new ValidationError('COPY_SPEC_INVALID', `the copy's spec.json names no node`);
  return spec;
}

/** Restores one volume: into a staging directory inside the new volume, then its entries renamed up. */
async function restoreVolume(restic: Restic, found: FoundCopy, driver: VolumeDriver, node: string, volume: string): Promise<void> {
  const root = driver.mountSource({ node, volume });
  const staging = join(root, STAGING);
  await mkdir(staging, { mode: 0o700 });
  await restic.restore(found.repo, found.snapshot.id, staging, `/volumes/${volume}`);
  const from = join(staging, 'volumes', volume);
  for (const entry of await readdir(from).catch(() => [] as string[])) await rename(join(from, entry), join(root, entry));
  await rm(staging, { recursive: true, force: true });
}

export async function restoreNode(deps: RestoreDeps, request: FindRequest): Promise<RestoreResult> {
  const driver = deps.nodes.volumeDriver();
  if (!driver) throw new UnavailableError('NODES_OFF', 'the nodes are off on this station: nothing to restore into');
  if (!deps.creator) throw new UnavailableError('DISK_RESTORE_OFF', 'this station cannot create nodes for a restore');
  const node = request.node;
  const exists = () => deps.nodes.list().some((n) => n.name === node);
  if (typeof node === 'string' && exists())
    throw new ConflictError('NODE_EXISTS', `node ${node} exists on this station: delete it first, or restore elsewhere`);
  const found = await deps.find(request);
  const spec = await readSpec(deps.restic, found);
  if (spec.name !== node) throw new ValidationError('COPY_SPEC_INVALID', `the copy's spec names node ${spec.name}, not ${node}`);
  const volumes = (spec.volumes ?? []).map((v) => v.name);
  for (const volume of volumes) {
    if (await driver.volumeExists({ node, volume }))
      throw new ConflictError('VOLUME_EXISTS', `volume ${node}/${volume} exists on this station: nothing was restored`);
  }
  const made: string[] = [];
  try {
    for (const v of spec.volumes ?? []) {
      const quota = v.sizeMB && driver.supports.quotas ? { quotaBytes: v.sizeMB * MiB } : {};
      await driver.createVolume({ node, volume: v.name }, quota);
      made.push(v.name);
      await restoreVolume(deps.restic, found, driver, node, v.name);
    }
    if (exists()) throw new ConflictError('NODE_EXISTS', `node ${node} was made on this station meanwhile: nothing was restored`);
    await deps.creator.create(spec);
  } catch (error) {
    for (const volume of made) await driver.deleteVolume({ node, volume }).catch(() => undefined);
    throw error;
  }
  deps.events.publish('disk.copy.restored', { node, station: found.station, snapshot: found.snapshot.shortId, volumes });
  return { node, station: found.station, origin: found.origin, snapshot: found.snapshot.shortId, time: found.snapshot.time, volumes };
}
