// Pure parsers of what the storage drivers read from btrfs-progs, losetup and du, each tested on
// output captured from the real programs (test/fixtures/btrfs/, see its README for how).
//
// `btrfs qgroup show` is read as text with --raw: btrfs-progs 6.2's `--format json` aborts with an
// internal error as soon as a qgroup has a limit (captured in qgroup-show-json-limit.stderr).

export interface QgroupRow {
  /** "0/257": level 0 is one subvolume's own group */
  qgroupid: string;
  level: number;
  /** the subvolume id for a level-0 group */
  id: number;
  referenced: number;
  exclusive: number;
  maxReferenced: number | null;
  maxExclusive: number | null;
  /** relative to the file system's top level; "<toplevel>", "<stale>" for special rows; "" when not shown */
  path: string;
}

const FIELD_OF: Record<string, keyof QgroupRow> = {
  Qgroupid: 'qgroupid',
  Referenced: 'referenced',
  Exclusive: 'exclusive',
  'Max referenced': 'maxReferenced',
  'Max exclusive': 'maxExclusive',
  Path: 'path',
};

function bytes(value: string, line: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`btrfs qgroup show: expected bytes (--raw), got ${JSON.stringify(value)} in ${JSON.stringify(line)}`);
  return Number(value);
}

/** `btrfs qgroup show --raw [-r] [-e] [-f] PATH`: a header, a dashed line, one row per qgroup. */
export function parseQgroupShow(text: string): QgroupRow[] {
  const lines = text.split('\n').filter((l) => l.trim());
  const header = lines[0];
  if (!header?.startsWith('Qgroupid')) throw new Error(`btrfs qgroup show: no header in ${JSON.stringify(text.slice(0, 200))}`);
  const fields = header
    .trim()
    .split(/\s{2,}/)
    .map((name) => FIELD_OF[name]);
  if (fields.some((f) => f === undefined)) throw new Error(`btrfs qgroup show: unknown column in ${JSON.stringify(header)}`);
  const rows: QgroupRow[] = [];
  for (const line of lines.slice(1)) {
    if (/^[-\s]+$/.test(line)) continue;
    const tokens = line.trim().split(/\s+/);
    const row: QgroupRow = {
      qgroupid: '',
      level: 0,
      id: 0,
      referenced: 0,
      exclusive: 0,
      maxReferenced: null,
      maxExclusive: null,
      path: '',
    };
    fields.forEach((field, i) => {
      // the path is last and may hold spaces: it takes what is left
      const value = field === 'path' ? tokens.slice(i).join(' ') : (tokens[i] ?? '');
      if (field === 'qgroupid') row.qgroupid = value;
      else if (field === 'path') row.path = value;
      else if (field === 'maxReferenced' || field === 'maxExclusive') row[field] = value === 'none' ? null : bytes(value, line);
      else if (field === 'referenced' || field === 'exclusive') row[field] = bytes(value, line);
    });
    const id = /^(\d+)\/(\d+)$/.exec(row.qgroupid);
    if (!id) throw new Error(`btrfs qgroup show: bad qgroup id in ${JSON.stringify(line)}`);
    row.level = Number(id[1]);
    row.id = Number(id[2]);
    rows.push(row);
  }
  return rows;
}

/** `btrfs qgroup show` on a file system without quotas says so on stderr (exit 1). */
export const quotasDisabled = (stderr: string): boolean => /quotas not enabled/.test(stderr);

export interface SubvolumeShow {
  /** relative to the file system's top level */
  path: string;
  name: string;
  uuid: string;
  parentUuid: string | null;
  receivedUuid: string | null;
  id: number;
  createdAt: string;
  readonly: boolean;
}

/** `btrfs subvolume show PATH`: the top-level-relative path, then tab-indented "Key: value" lines. */
export function parseSubvolumeShow(text: string): SubvolumeShow {
  const [first = '', ...rest] = text.split('\n');
  const fields = new Map<string, string>();
  for (const line of rest) {
    const m = /^\t([A-Za-z][A-Za-z ()]*?):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!.trim());
  }
  const need = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`btrfs subvolume show: no "${key}" in ${JSON.stringify(text.slice(0, 200))}`);
    return value;
  };
  const uuidOrNull = (value: string): string | null => (value === '-' ? null : value);
  // "2026-12-04 14:39:16 +0000" -> ISO 8601
  const created = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)$/.exec(need('Creation time'));
  if (!created) throw new Error(`btrfs subvolume show: unexpected creation time ${JSON.stringify(need('Creation time'))}`);
  return {
    path: first.trim(),
    name: need('Name'),
    uuid: need('UUID'),
    parentUuid: uuidOrNull(need('Parent UUID')),
    receivedUuid: uuidOrNull(need('Received UUID')),
    id: Number(need('Subvolume ID')),
    createdAt: new Date(`${created[1]}T${created[2]}${created[3]}:${created[4]}`).toISOString(),
    readonly: need('Flags')
      .split(/[\s,]+/)
      .includes('readonly'),
  };
}

export interface SubvolumeListEntry {
  id: number;
  /** relative to the file system's top level */
  path: string;
  /** with -u, -q, -R: the subvolume's UUID, the one it was snapshotted from, the one it was received as (null: none) */
  uuid?: string | null;
  parentUuid?: string | null;
  receivedUuid?: string | null;
}

const LIST_UUIDS: Record<string, 'uuid' | 'parentUuid' | 'receivedUuid'> = {
  uuid: 'uuid',
  parent_uuid: 'parentUuid',
  received_uuid: 'receivedUuid',
};

/** `btrfs subvolume list [-u] [-q] [-R] PATH`: "ID 257 gen 10 top level 5 [parent_uuid U] [received_uuid U] [uuid U] path P". */
export function parseSubvolumeList(text: string): SubvolumeListEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^ID (\d+) gen \d+ top level \d+ (.*?)\s*path (.+)$/.exec(line);
      if (!m) throw new Error(`btrfs subvolume list: unexpected ${JSON.stringify(line)}`);
      const entry: SubvolumeListEntry = { id: Number(m[1]), path: m[3]! };
      const tokens = m[2]!.split(/\s+/).filter(Boolean);
      for (let i = 0; i < tokens.length; i += 2) {
        const field = LIST_UUIDS[tokens[i]!];
        const value = tokens[i + 1];
        if (!field || value === undefined) throw new Error(`btrfs subvolume list: unexpected ${JSON.stringify(line)}`);
        entry[field] = value === '-' ? null : value;
      }
      return entry;
    });
}

/** `btrfs --version`: "btrfs-progs v6.2" -> "6.2". */
export function parseBtrfsVersion(text: string): string {
  const m = /btrfs-progs v(\S+)/.exec(text);
  if (!m) throw new Error(`btrfs --version: unexpected ${JSON.stringify(text.trim().slice(0, 100))}`);
  return m[1]!;
}

/** Why `btrfs receive` failed, where the agent can say it better than the exit code. */
export function receiveFailure(stderr: string): 'exists' | 'missing-parent' | null {
  if (/ERROR: creating subvolume .* failed: File exists/.test(stderr)) return 'exists';
  if (/ERROR: cannot find parent subvolume/.test(stderr)) return 'missing-parent';
  return null;
}

/** `losetup --json --list -O NAME,BACK-FILE -j FILE`: the loop devices backed by FILE. */
export function parseLoopDevices(json: string): { name: string; backFile: string }[] {
  if (!json.trim()) return []; // with no loop device in use at all, losetup prints nothing
  const parsed = JSON.parse(json) as { loopdevices?: { name?: unknown; 'back-file'?: unknown }[] };
  if (!Array.isArray(parsed.loopdevices)) throw new Error('losetup --json: no loopdevices list');
  return parsed.loopdevices.map((d) => {
    if (typeof d.name !== 'string' || typeof d['back-file'] !== 'string') throw new Error(`losetup --json: unexpected entry ${JSON.stringify(d)}`);
    return { name: d.name, backFile: d['back-file'] };
  });
}

/** `du -s -B1 PATH`: "BYTES<TAB>PATH". */
export function parseDuBytes(text: string): number {
  const m = /^(\d+)\t/.exec(text);
  if (!m) throw new Error(`du: unexpected ${JSON.stringify(text.trim().slice(0, 100))}`);
  return Number(m[1]);
}
