// What an export is, as kept in <stateDir>/disk/exports.json (0600): which volume of which node, over
// which protocol, on which networks, read-only or not, its user and port. Never its password: that
// lives only as a hash in the engine's own store (rclone's htpasswd file, samba's passdb).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ValidationError } from '../../errors.ts';
import { writeFileAtomic } from '../../store/atomic-file.ts';

export type ExportProtocol = 'webdav' | 'smb';
export type ExportOn = 'lan' | 'mesh' | 'both';

export const PROTOCOLS: readonly ExportProtocol[] = ['webdav', 'smb'];
export const ON: readonly ExportOn[] = ['lan', 'mesh', 'both'];

export interface ExportRecord {
  /** 8 hex digits: the export's handle (DELETE /disk/exports/:id) and part of its user name */
  id: string;
  node: string;
  volume: string;
  protocol: ExportProtocol;
  on: ExportOn;
  readOnly: boolean;
  /** the export's own user (webdav-ID or smb-ID) */
  user: string;
  /** WebDAV: this export's own port; SMB: the one smbd's port (445) */
  port: number;
  /** SMB only: the unix uid its user has inside smbd's private passwd file (never a user of the machine) */
  uid?: number;
  createdAt: string;
}

export interface ExportRequest {
  node: string;
  volume: string;
  protocol: string;
  on?: string;
  readOnly?: boolean;
}

/** The first WebDAV port; each WebDAV export takes the lowest free one from here (the copy store uses 8713-8714). */
export const WEBDAV_PORT_BASE = 8720;
/** The port SMB clients (Windows, macOS, smbclient) use; one smbd serves every SMB export. */
export const SMB_PORT = 445;
/** SMB users get uids from here inside smbd's own passwd file: far above any real account. */
export const SMB_UID_BASE = 2_900_000;

export const newExportId = (): string => randomBytes(4).toString('hex');
export const EXPORT_ID = /^[0-9a-f]{8}$/;

/** Checks the protocol and networks asked for (400 with what is wrong; the node and volume are the keeper's to check). */
export function checkRequest(r: ExportRequest): { protocol: ExportProtocol; on: ExportOn; readOnly: boolean } {
  if (!PROTOCOLS.includes(r.protocol as ExportProtocol))
    throw new ValidationError('DISK_EXPORT_PROTOCOL_INVALID', `protocol must be one of ${PROTOCOLS.join(', ')} (got ${JSON.stringify(r.protocol)})`);
  const on = r.on ?? 'lan';
  if (!ON.includes(on as ExportOn)) throw new ValidationError('DISK_EXPORT_ON_INVALID', `on must be one of ${ON.join(', ')} (got ${JSON.stringify(r.on)})`);
  if (r.readOnly !== undefined && typeof r.readOnly !== 'boolean') throw new ValidationError('DISK_EXPORT_READ_ONLY_INVALID', 'readOnly must be true or false');
  return { protocol: r.protocol as ExportProtocol, on: on as ExportOn, readOnly: r.readOnly ?? false };
}

/** The lowest WebDAV port no other export holds. */
export function freeWebdavPort(records: readonly ExportRecord[]): number {
  const used = new Set(records.filter((r) => r.protocol === 'webdav').map((r) => r.port));
  let port = WEBDAV_PORT_BASE;
  while (used.has(port)) port++;
  return port;
}

/** The lowest SMB uid no other export holds. */
export function freeSmbUid(records: readonly ExportRecord[]): number {
  const used = new Set(records.map((r) => r.uid).filter((u) => u !== undefined));
  let uid = SMB_UID_BASE;
  while (used.has(uid)) uid++;
  return uid;
}

/** exports.json: a versioned list (missing file: none). */
export async function loadExports(file: string): Promise<ExportRecord[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return [];
  const parsed = JSON.parse(text) as { version?: number; exports?: ExportRecord[] };
  return (parsed.exports ?? []).filter((r) => EXPORT_ID.test(r.id));
}

export const saveExports = (file: string, records: readonly ExportRecord[]): Promise<void> =>
  writeFileAtomic(file, `${JSON.stringify({ version: 1, exports: records }, null, 2)}\n`, 0o600);
