// Orchestrators on the status page (issue 15): on each orchestrated node's card, its cluster, its
// standing in it and the cluster's health, from GET /api/v1/nodes (the `orchestrator` of each node).
// A classic script loaded before app.js (no modules, no build step): the pure function first
// (test/unit/api/page-orchestrator.test.ts runs it in node:vm), then the rendering with app.js's h().
'use strict';

/** An orchestrated node's standing for its card: the pill's level and text, and a line of detail. */
function orchestratorLook(r) {
  if (!r) return { level: 'degraded', pill: 'no status yet', detail: '' };
  if (r.state !== 'member') return { level: r.state === 'error' ? 'error' : 'degraded', pill: r.state, detail: r.reason || '' };
  const view = r.view;
  if (!view) return { level: 'ok', pill: `a ${r.memberRole || 'member'}`, detail: 'its managers know the cluster' };
  const level = { healthy: 'ok', degraded: 'degraded' }[view.health] || 'error';
  const managers = `${view.managers.reachable} of ${view.managers.total} managers`;
  const detail = [`${view.members.length} members`, managers, `leader ${view.leader || 'none'}`, view.reason].filter(Boolean).join(' · ');
  return { level, pill: view.health, detail };
}

// ---------- rendering (uses app.js) ----------
/** An orchestrated node's line on its card: its cluster, its standing, and the cluster's health. */
// biome-ignore lint/correctness/noUnusedVariables: app.js renderNodes() calls it (classic scripts share one scope)
function orchestratorStrip(raw) {
  const o = raw.spec?.orchestrator;
  if (!o) return null;
  const kind = { swarm: 'Swarm', microk8s: 'MicroK8s', k3s: 'K3s' }[o.kind] || o.kind;
  const look = orchestratorLook(raw.orchestrator);
  return h(
    'div',
    { class: 'node-orchestrator', 'data-orchestrator': raw.name, 'data-health': raw.orchestrator?.view?.health || raw.orchestrator?.state || 'unknown' },
    h('span', { class: 'label' }, `${kind} ${o.cluster}`),
    h('span', { class: 'pill', 'data-state': look.level }, look.pill),
    h('span', { class: 'muted' }, look.detail),
  );
}
