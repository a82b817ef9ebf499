// A short per-run prefix for every name a test gives a resource (namespaces, bridges, veths,
// containers: interface names are limited to 15 characters, so it stays short).
import { randomBytes } from 'node:crypto';

export const RUN_PREFIX = `st${randomBytes(2).toString('hex')}`;

/** `${RUN_PREFIX}${suffix}`, checked against the 15-character interface name limit. */
export function runName(suffix: string): string {
  const name = `${RUN_PREFIX}${suffix}`;
  if (name.length > 15) throw new Error(`resource name ${name} is longer than 15 characters`);
  return name;
}
