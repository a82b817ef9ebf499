// An owner's mesh authority for unit tests, with the real nebula-cert: the station's state in a temp
// directory (removed by removeTempDirs), a CA made for the owner. Nebula itself is not started: the
// context's apply() is a double that does nothing.
import { join } from 'node:path';
import { loadConfig } from '../../agent/config/load.ts';
import type { StationError } from '../../agent/errors.ts';
import { EventBus } from '../../agent/events.ts';
import { exec } from '../../agent/exec.ts';
import { MeshAuthority } from '../../agent/mesh/authority.ts';
import type { MeshContext } from '../../agent/mesh/context.ts';
import { meshDocument, meshPaths } from '../../agent/mesh/mesh-state.ts';
import { NebulaCert } from '../../agent/mesh/nebula-cert.ts';
import { tempDir } from './temp-dirs.ts';

export async function testAuthority(dirPrefix: string, owner: string): Promise<{ dir: string; mesh: MeshContext; authority: MeshAuthority }> {
  const dir = tempDir(dirPrefix);
  const config = loadConfig({
    STATION_STATE_DIR: join(dir, 'state'),
    STATION_NAME: 'a1',
    STATION_MESH_PUBLIC_ENDPOINT: '198.18.0.1:4242',
  });
  const doc = meshDocument(config.stateDir);
  await doc.load();
  const mesh: MeshContext = {
    doc,
    paths: meshPaths(config.stateDir),
    cert: new NebulaCert(exec),
    config,
    events: new EventBus(),
    apply: async () => undefined,
    now: () => new Date(),
  };
  const authority = new MeshAuthority(mesh);
  await authority.create(owner);
  return { dir, mesh, authority };
}

/** What a call that may be refused came to: 'accepted', or the StationError's kind:code. */
export const refusal = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'accepted',
    (e: StationError) => `${e.kind}:${e.code}`,
  );
