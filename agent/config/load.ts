// Builds the effective configuration. A bad value anywhere fails with one line naming the key
// and where it came from, so a typo in a unit file is found at once.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.ts';
import { ValidationError } from '../errors.ts';

type Key = keyof Config;
const KEYS = Object.keys(ConfigSchema.properties) as Key[];

/** camelCase key -> STATION_SNAKE_CASE environment name. */
export const envName = (key: string): string => `STATION_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export class ConfigError extends ValidationError {
  constructor(message: string) {
    super('INVALID_CONFIG', message);
    this.name = 'ConfigError';
  }
}

function fromEnvText(key: Key, text: string): unknown {
  const schema = ConfigSchema.properties[key] as { type?: string };
  if (schema.type === 'integer') {
    if (!/^-?\d+$/.test(text.trim())) throw new ConfigError(`${envName(key)}: must be a whole number (got ${JSON.stringify(text)})`);
    return Number(text.trim());
  }
  return text;
}

function describeFailure(key: string, value: unknown): string {
  const schema = (ConfigSchema.properties as Record<string, Record<string, unknown>>)[key];
  if (!schema) return 'is not a known setting';
  const parts: string[] = [];
  if (schema.type === 'integer') parts.push('must be a whole number');
  if (schema.type === 'string') parts.push('must be a string');
  if (schema.minimum !== undefined) parts.push(`from ${schema.minimum} to ${schema.maximum}`);
  if (schema.pattern) parts.push(`matching ${schema.pattern}`);
  if (schema.anyOf) parts.push(`one of ${(schema.anyOf as { const: string }[]).map((s) => s.const).join(', ')}`);
  return `${parts.join(' ')} (got ${JSON.stringify(value)})`;
}

function readConfigFile(stateDir: string): Record<string, unknown> {
  const file = join(stateDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`${file}: cannot be read (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${file}: must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Load and validate. Throws ConfigError with a one-line message naming the bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const stateDir = env.STATION_STATE_DIR?.trim() || (ConfigSchema.properties.stateDir.default as string);
  const file = readConfigFile(stateDir);
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [key, value] of Object.entries(file)) {
    if (!KEYS.includes(key as Key)) throw new ConfigError(`config.json: "${key}" is not a known setting (known: ${KEYS.join(', ')})`);
    merged[key] = value;
    origin[key] = `config.json "${key}"`;
  }
  for (const key of KEYS) {
    const text = env[envName(key)];
    if (text === undefined || text === '') continue;
    merged[key] = fromEnvText(key, text);
    origin[key] = envName(key);
  }
  const config = Value.Default(ConfigSchema, merged) as Record<string, unknown>;
  for (const key of KEYS) {
    const schema = ConfigSchema.properties[key];
    if (!Value.Check(schema, config[key])) throw new ConfigError(`${origin[key] ?? key}: ${describeFailure(key, config[key])}`);
  }
  const result = config as Config;
  result.stateDir = stateDir;
  if (!result.lxcPath) result.lxcPath = join(stateDir, 'lxc');
  if (!result.templateCache) result.templateCache = join(stateDir, 'templates');
  if (!result.storagePoolFile) result.storagePoolFile = join(stateDir, 'storage', 'pool.img');
  // mkfs.btrfs needs about 110 MiB per device; 0 is "derived" (half the free space)
  if (result.storagePoolSizeMb > 0 && result.storagePoolSizeMb < 128) {
    throw new ConfigError(`${origin.storagePoolSizeMb ?? 'storagePoolSizeMb'}: must be 0 (derived) or at least 128 MiB (got ${result.storagePoolSizeMb})`);
  }
  if (!result.name) result.name = stationNameFromHost(hostname());
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(result.name)) {
    throw new ConfigError(
      `${origin.name ?? 'STATION_NAME (from the host name)'}: must be a DNS label: lower-case letters, digits and '-' (got ${JSON.stringify(result.name)})`,
    );
  }
  return result;
}

/** Host names may carry dots and capitals; a station name is one lower-case DNS label. */
export function stationNameFromHost(host: string): string {
  const label = host
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return label.slice(0, 63) || 'station';
}
