// Validates every node's network policy before anything is compiled or applied: the shape (the
// TypeBox schema), the peer words, and that no two nodes expose the same station port or claim
// the same alias. The node service calls validatePolicies() on specs; a bad policy is a 400 and
// nothing changes. A node:NAME that names no node (yet) is no error: like a Kubernetes selector or
// a Nebula group, the rule takes effect when the node appears, so two nodes that talk to each other
// can be made in either order; danglingNodeReferences() says which references point nowhere now.
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.ts';
import { NetworkPolicySchema, type NetworkPolicy } from './policy-schema.ts';
import { isPeerProblem, parsePeer } from './peer.ts';

export const POLICY_ERROR_CODE = 'INVALID_NETWORK_POLICY';

export interface ValidateOptions {
  /** station ports that must not be exposed (the API port, DNS) */
  reservedPorts?: number[];
}

const EGRESS_KINDS = new Set(['lan', 'mesh', 'internet', 'station', 'node', 'owner', 'group', 'cidr']);
const INGRESS_KINDS = new Set(['lan', 'mesh', 'node', 'owner', 'group', 'cidr']);

function fail(node: string, where: string, message: string): never {
  throw new ValidationError(POLICY_ERROR_CODE, `network policy of node "${node}": ${where}: ${message}`, { node, where });
}

function shapeMessage(path: string, message: string, value: unknown): string {
  if (/\/ports\/\d+$|\/port$|expose\/\d+\/to$/.test(path) && typeof value === 'number') return `port ${value} is out of range (1 to 65535)`;
  if (/\/proto$/.test(path)) return `proto must be "tcp" or "udp", not ${JSON.stringify(value)}`;
  if (/\/on$/.test(path)) return `"on" must be "lan" or "mesh", not ${JSON.stringify(value)}`;
  return message;
}

/** Checks one policy's shape; returns it typed (with defaults left implicit). */
export function checkPolicyShape(node: string, policy: unknown): NetworkPolicy {
  if (policy === undefined || policy === null) return {};
  if (!Value.Check(NetworkPolicySchema, policy)) {
    const first = Value.Errors(NetworkPolicySchema, policy).First();
    if (!first) fail(node, '/', 'not a valid policy');
    const extra = first.message.includes('additional') || first.message.includes('Unexpected property');
    fail(
      node,
      first.path || '/',
      extra ? `unknown field (allowed: egress, ingress, expose, aliases; rules: to/from, ports, proto)` : shapeMessage(first.path, first.message, first.value),
    );
  }
  return policy as NetworkPolicy;
}

/**
 * Validates all nodes' policies together (aliases and exposed ports are checked across nodes).
 * Throws ValidationError (HTTP 400) naming the node and the rule; returns the typed policies.
 */
export function validatePolicies(policies: Record<string, unknown>, options: ValidateOptions = {}): Record<string, NetworkPolicy> {
  const reserved = new Set(options.reservedPorts ?? []);
  const exposed = new Map<string, string>();
  const aliases = new Map<string, string>();
  const out: Record<string, NetworkPolicy> = {};
  for (const [node, raw] of Object.entries(policies)) {
    const policy = checkPolicyShape(node, raw);
    const peers = [
      ...(policy.egress ?? []).map((rule, i) => ({ text: rule.to, where: `/egress/${i}/to`, kinds: EGRESS_KINDS, dir: 'egress' })),
      ...(policy.ingress ?? []).map((rule, i) => ({ text: rule.from, where: `/ingress/${i}/from`, kinds: INGRESS_KINDS, dir: 'ingress' })),
    ];
    for (const { text, where, kinds, dir } of peers) {
      const peer = parsePeer(text);
      if (isPeerProblem(peer)) fail(node, where, peer.problem);
      if (!kinds.has(peer.kind))
        fail(
          node,
          where,
          `"${text}" cannot be used for ${dir} (allowed: ` +
            `${[...kinds].map((k) => (k === 'cidr' ? 'CIDR' : ['node', 'owner', 'group'].includes(k) ? `${k}:NAME` : k)).join(', ')})`,
        );
    }
    for (const [i, rule] of (policy.expose ?? []).entries()) {
      const key = `${rule.on}/${rule.proto ?? 'tcp'}/${rule.port}`;
      if (reserved.has(rule.port)) fail(node, `/expose/${i}/port`, `station port ${rule.port} is reserved for the station's own services`);
      const other = exposed.get(key);
      if (other) fail(node, `/expose/${i}/port`, `station port ${rule.port}/${rule.proto ?? 'tcp'} on ${rule.on} is already exposed by node "${other}"`);
      exposed.set(key, node);
    }
    for (const [i, alias] of (policy.aliases ?? []).entries()) {
      const other = aliases.get(alias);
      if (other && other !== node) fail(node, `/aliases/${i}`, `alias "${alias}" is already claimed by node "${other}"`);
      aliases.set(alias, node);
    }
    out[node] = policy;
  }
  return out;
}

/**
 * The node:NAME words of a (valid) policy that name no node in `known` (this station's nodes and
 * the mesh's: NAME.STATION, or NAME while one station has it), sorted and once each.
 */
export function danglingNodeReferences(policy: NetworkPolicy, known: Iterable<string>): string[] {
  const names = new Set(known);
  const words = [...(policy.egress ?? []).map((r) => r.to), ...(policy.ingress ?? []).map((r) => r.from)];
  const out = new Set<string>();
  for (const word of words) {
    const peer = parsePeer(word);
    if (!isPeerProblem(peer) && peer.kind === 'node' && !names.has(peer.name)) out.add(`node:${peer.name}`);
  }
  return [...out].sort();
}

/**
 * One node's new or changed policy against the station's other nodes (exposed ports, aliases):
 * the candidate alone first, so its own mistakes are named before clashes with the others.
 */
export function validateCandidate(name: string, policy: unknown, others: Record<string, unknown>, options: ValidateOptions = {}): void {
  validatePolicies({ [name]: policy ?? {} }, options);
  validatePolicies({ ...others, [name]: policy ?? {} }, options);
}

/** The node:NAME references of a policy that name none of `known` now; none for a policy that is not valid. */
export function danglingReferences(name: string, policy: unknown, known: string[]): string[] {
  if (policy === undefined || policy === null) return [];
  let valid: NetworkPolicy;
  try {
    valid = checkPolicyShape(name, policy);
  } catch {
    return [];
  }
  return danglingNodeReferences(valid, [name, ...known]);
}
