// Host-side names derived from a node's name. Interface names are limited to 15 characters.
import { createHash } from 'node:crypto';
import { ValidationError } from '../../errors.ts';

// The hashed form: 8 characters of the name, '-', 4 hex digits of its SHA-256 (15 characters).
const HASHED_SHAPE = /^[a-z0-9-]{8}-[0-9a-f]{4}$/;

/**
 * The host end of the node's veth: `v-<name>` when it fits, else a prefix of the name plus a
 * short hash. A 13-character name that has the hashed shape itself (e.g. `kubernet-0e19`) could
 * take the veth of a long name (`kubernetes-node-1` -> `v-kubernet-0e19`), so it is hashed too:
 * the plain form is never of the hashed shape, and the two forms cannot overlap. Names are fixed
 * in a node's LXC config at create, so every other name keeps the veth it had.
 */
export function vethName(node: string): string {
  const plain = `v-${node}`;
  if (plain.length <= 15 && !HASHED_SHAPE.test(node)) return plain;
  const hash = createHash('sha256').update(node).digest('hex').slice(0, 4);
  return `v-${node.slice(0, 8)}-${hash}`;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Node names become directory, cgroup and host names: only DNS labels are accepted. */
export function assertNodeName(name: string): void {
  if (!NAME.test(name)) throw new ValidationError('INVALID_NODE_NAME', `invalid node name ${JSON.stringify(name)}: a DNS label (a-z, 0-9, -) is required`);
}
