// An orchestrated node's standing in its cluster in one line, for `station node show` (pure).
import type { OrchestratorReport } from '../../agent/orchestrator/orchestrator-subsystem.ts';

export function orchestratorLine(r: OrchestratorReport | null | undefined): string | null {
  if (!r) return null;
  const what = `${r.kind} cluster ${r.cluster} (${r.role})`;
  if (r.state !== 'member') return `${what}: ${r.state}${r.reason ? `, ${r.reason}` : ''}`;
  const self = r.memberRole ? `a ${r.memberRole}` : 'a member';
  const engine = r.engineVersion ? `, engine ${r.engineVersion}` : '';
  const { view } = r;
  if (!view) return `${what}: ${self}${engine}`;
  const managers = `${view.managers.reachable} of ${view.managers.total} managers reachable`;
  const health = view.health === 'healthy' ? 'healthy' : `${view.health}: ${view.reason}`;
  return `${what}: ${self}${engine}; ${view.members.length} members, ${managers}, leader ${view.leader ?? 'none'}; ${health}`;
}
