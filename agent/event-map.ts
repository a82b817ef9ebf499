// Every event the station publishes: its name, what it means, and its payload, in one object.
// Publishers (agent/events.ts `publish` is typed by it), subscribers, the /events route, the OpenAPI
// document and the status page's list of names (api/web/app.js EVENT_TYPES, checked by
// test/unit/agent/event-map.test.ts) all follow this one list. A new event starts here.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const name = Type.String({ description: 'the node or station it is about' });
const names = Type.Array(Type.String());
const NodeStateName = Type.Union((['running', 'stopped', 'starting', 'stopping', 'frozen', 'unknown', 'missing'] as const).map((s) => Type.Literal(s)));
// The pairing window after a change (agent/indicator/pairing-window.ts PairingState).
const pairing = {
  open: Type.Boolean(),
  closesAt: Type.Union([Type.String(), Type.Null()]),
  remainingSeconds: Type.Number(),
  openedBy: Type.Union([Type.Literal('button'), Type.Literal('api'), Type.Null()]),
  activeSessions: Type.Integer(),
};

/** An event's payload schema, described (the description goes to the OpenAPI document and docs). */
const payload = <P extends Record<string, TSchema>>(description: string, properties: P) =>
  Type.Object(properties, { description, additionalProperties: false });

export const EVENT_PAYLOADS = {
  'station.started': payload('the agent started', { name }),
  'hardware.updated': payload('a hardware detection finished', {
    detectedAt: Type.String(),
    unavailable: Type.Array(Type.String(), { description: 'capabilities this box lacks' }),
  }),

  'node.created': payload('a node was made and converged', {
    name,
    address: Type.String(),
    template: Type.String(),
    profile: Type.String(),
  }),
  'node.updated': payload("a node's spec was patched", {
    name,
    fields: Type.Array(Type.String(), { description: 'the top-level spec fields the patch named' }),
  }),
  'node.deleted': payload('a node was destroyed', { name, volumesDeleted: Type.Boolean() }),
  'node.error': payload('converging a node failed (retried with back-off)', { name, message: Type.String() }),
  'node.state': payload('LXC reported a new state for a node', { name, state: NodeStateName, previous: NodeStateName }),
  'node.progress': payload('a line of progress while a node is built (template build, clone, packages)', {
    name,
    template: Type.String(),
    message: Type.String(),
  }),
  'node.subnet': payload('the nodes moved to the subnet the mesh allocated', {
    subnet: Type.String(),
    nodes: Type.Record(Type.String(), Type.String(), { description: 'node name -> new address' }),
  }),

  'mesh.created': payload("this station started a mesh (it is the owner's authority)", { owner: Type.String(), address: Type.String() }),
  'mesh.joined': payload('this station joined a mesh by invite', {
    owner: Type.String(),
    address: Type.Optional(Type.String({ description: 'its mesh address with prefix' })),
  }),
  'mesh.left': payload('this station left its mesh', { owner: Type.String() }),
  'mesh.revoked': payload('the authority revoked this station (seen at its next directory sync)', {}),
  'mesh.tunnels.reset': payload('Nebula restarted to clear tunnels stuck to these peers', {
    peers: Type.Array(Type.String(), { description: 'mesh addresses' }),
  }),
  'mesh.peers': payload('what this station knows of its peers changed (who, their addresses, owners, node subnets, lighthouse roles), or its Nebula came up', {
    peers: Type.Array(Type.String(), { description: 'station names, sorted' }),
  }),
  'mesh.member.joined': payload('authority: a station enrolled in the mesh', { name, address: Type.String() }),
  'mesh.member.revoked': payload('authority: a station was revoked', { name }),
  'mesh.member.readmitted': payload('authority: a revoked name may enrol again', { name }),

  'replicas.member.added': payload("authority: a station was added to the owner's lease store (a learner until it caught up)", { name }),
  'replicas.member.promoted': payload("authority: a station's lease store member votes now", { name }),
  'replicas.member.removed': payload("authority: a station's lease store member was removed", { name, why: Type.String() }),

  'replicas.lease.taken': payload("this station took a replicated node's lease: it runs the Active copy; its sends carry the token", {
    node: Type.String(),
    token: Type.Integer({ description: "the fencing token (the lease key's create revision)" }),
  }),
  'replicas.fenced': payload("this station could not renew a replicated node's lease in time", {
    node: Type.String(),
    why: Type.String(),
    stopped: Type.Boolean({ description: 'the node was stopped (failover is automatic: another station may take over)' }),
  }),
  'replicas.copy.sent': payload('an Inactive station pulled the newest snapshot of a volume', {
    node: Type.String(),
    station: Type.String(),
    volume: Type.String(),
    snapshot: Type.String(),
    bytes: Type.Integer(),
    seconds: Type.Number(),
    whole: Type.Boolean({ description: 'the whole snapshot (no common parent), not an increment' }),
  }),
  'replicas.copy.failed': payload('bringing an Inactive copy up to date failed (tried again after the next snapshot)', {
    node: Type.String(),
    station: Type.String(),
    reason: Type.String(),
  }),
  'replicas.active': payload("who runs a replicated node's Active copy changed (from the lease store's watch; null: nobody holds its lease)", {
    node: Type.String(),
    station: Type.Union([Type.String(), Type.Null()]),
  }),
  'replicas.demoted': payload('another station was promoted while this one was away: its copy here is Inactive now', {
    node: Type.String(),
    active: Type.String({ description: 'the station running the Active copy now' }),
    diverged: Type.Union([Type.String(), Type.Null()], {
      description: 'the snapshot of each volume keeping what this station wrote alone (never merged); null after a planned move',
    }),
  }),
  'replicas.retired': payload('a replicated node was deleted on its Active here: noted in the lease store, its copies told to go', {
    node: Type.String(),
    written: Type.Boolean({ description: 'the deletion was written down in the lease store (copies away now read it when back)' }),
    told: Type.Array(Type.String(), { description: 'the stations that dropped their copy at once' }),
  }),
  'replicas.copy.dropped': payload('an Inactive copy held here was dropped with its snapshots: its node was deleted on its Active', {
    node: Type.String(),
    active: Type.String({ description: 'the station that deleted it' }),
  }),
  'replicas.promoted': payload('an Inactive copy here became the Active one', {
    node: Type.String(),
    from: Type.String({ description: 'the station that ran the Active copy' }),
    token: Type.Union([Type.Integer(), Type.Null()]),
    lagSeconds: Type.Union([Type.Number(), Type.Null()], { description: 'how old its newest snapshot was' }),
    forced: Type.Boolean(),
    automatic: Type.Boolean(),
  }),

  'orchestrator.member': payload("an orchestrated node's standing in its cluster changed (starting, forming, joining, member, stopped, error)", {
    node: Type.String(),
    kind: Type.String({ description: 'swarm, microk8s or k3s' }),
    cluster: Type.String(),
    state: Type.String(),
    reason: Type.Union([Type.String(), Type.Null()]),
  }),
  'orchestrator.cluster': payload("a cluster's health as a manager here sees it changed (healthy, degraded, no-quorum)", {
    node: Type.String({ description: 'the manager node that saw it' }),
    kind: Type.String(),
    cluster: Type.String(),
    health: Type.String(),
    reason: Type.Union([Type.String(), Type.Null()]),
    managers: Type.Integer(),
    reachable: Type.Integer({ description: 'managers reachable: a majority keeps the quorum' }),
  }),

  'disk.snapshot.created': payload("a snapshot set of all of a node's volumes was taken (and counts)", {
    node: Type.String(),
    snapshot: Type.String(),
    kind: Type.Union([Type.Literal('auto'), Type.Literal('manual')]),
    volumes: names,
    frozen: Type.Boolean({ description: 'the node was running and frozen for the instant of the snapshots' }),
    freezeMs: Type.Number({ description: 'how long the node stood still (0 when not frozen)' }),
    totalMs: Type.Number({ description: 'the whole set: sync, freeze, snapshots, thaw, record' }),
  }),
  'disk.snapshot.failed': payload('taking a snapshot set failed: nothing of it counts, the node is thawed', {
    node: Type.String(),
    kind: Type.Union([Type.Literal('auto'), Type.Literal('manual')]),
    reason: Type.String(),
  }),
  'disk.snapshot.deleted': payload('a snapshot set was deleted', {
    node: Type.String(),
    snapshot: Type.String(),
    reason: Type.Union([Type.Literal('retention'), Type.Literal('request')]),
  }),
  'disk.store.started': payload("this station's copy store (rclone serve restic, append-only) serves on its mesh address", {
    address: Type.String(),
    port: Type.Integer(),
  }),
  'disk.store.stopped': payload("this station's copy store stopped", { reason: Type.String() }),
  'disk.store.granted': payload("a station of the owner was given credentials for this station's copy store (never the password)", {
    station: Type.String(),
    owner: Type.String(),
    readFrom: Type.Union([Type.String(), Type.Null()], { description: 'a gone station whose repositories it may read, or null' }),
  }),
  'disk.store.full': payload("this station's copy store is at its offer (or the disk at its reserve): grants are refused, writers suspended", {
    usedBytes: Type.Number(),
    offerBytes: Type.Number(),
    reason: Type.String(),
  }),
  'disk.store.prune.requested': payload("a prune request signed by the owner's authority reached this store; the window opens at opensAt", {
    station: Type.String(),
    repository: Type.String(),
    by: Type.String({ description: 'the station that handed it over' }),
    opensAt: Type.String(),
  }),
  'disk.store.prune.opened': payload('a prune window opened: one repository served without append-only', {
    station: Type.String(),
    repository: Type.String(),
    by: Type.String({ description: 'the station that will prune' }),
  }),
  'disk.store.pruned': payload('a prune window closed: the repository is append-only again', { station: Type.String(), repository: Type.String() }),
  'disk.copy.placed': payload("a copy of a node was placed on a peer's store (a grant received; never the password)", {
    node: Type.String(),
    station: Type.String(),
    repository: Type.String({ description: 'its directory on the store: the node name, or NAME.N' }),
  }),
  'disk.copy.started': payload('a backup of a node to one of its copies started', { node: Type.String(), station: Type.String(), set: Type.String() }),
  'disk.copy.succeeded': payload('a backup of a node to one of its copies finished: a restic snapshot counts', {
    node: Type.String(),
    station: Type.String(),
    set: Type.String({ description: 'the snapshot set backed up' }),
    snapshot: Type.String({ description: "restic's short snapshot id" }),
    dataAdded: Type.Number({ description: 'bytes new to the copy, before compression' }),
    seconds: Type.Number(),
    bytes: Type.Number({ description: 'bytes the copy takes on the peer' }),
  }),
  'disk.copy.failed': payload('a step of a copy failed (grant, repository, backup, check): nothing partial counts', {
    node: Type.String(),
    station: Type.String(),
    code: Type.String(),
    reason: Type.String(),
  }),
  'disk.copy.lost': payload('a copy was given up: its peer lost (longer than diskPeerLostSeconds), revoked, gone, the copy damaged, or surplus', {
    node: Type.String(),
    station: Type.String(),
    why: Type.Union([Type.Literal('lost'), Type.Literal('revoked'), Type.Literal('damaged'), Type.Literal('gone'), Type.Literal('surplus')]),
  }),
  'disk.copy.peer': payload(
    'a peer holding a copy of a node went offline (the copy stops counting; it is replaced once the peer is gone diskPeerLostSeconds) or came back',
    { node: Type.String(), station: Type.String(), online: Type.Boolean() },
  ),
  'disk.copy.replaced': payload('a lost or damaged copy was made again on another peer', {
    node: Type.String(),
    from: Type.String(),
    to: Type.String(),
    how: Type.Union([Type.Literal('copy'), Type.Literal('backup')], { description: 'restic copy from a surviving copy, or a fresh backup' }),
  }),
  'disk.copy.checked': payload('a copy was checked (restic check --read-data-subset)', {
    node: Type.String(),
    station: Type.String(),
    ok: Type.Boolean(),
    problem: Type.Union([Type.String(), Type.Null()]),
  }),
  'disk.copy.restored': payload('a node was restored on this station from one of its copies', {
    node: Type.String(),
    station: Type.String({ description: 'the peer it was read from' }),
    snapshot: Type.String(),
    volumes: Type.Array(Type.String()),
  }),
  'disk.export.created': payload("a node's volume was exported (WebDAV or SMB) with its own user; never the password", {
    id: Type.String(),
    node: Type.String(),
    volume: Type.String(),
    protocol: Type.String(),
    on: Type.String({ description: 'lan, mesh or both' }),
    readOnly: Type.Boolean(),
  }),
  'disk.export.removed': payload(
    "an export was removed (asked for, or its node or volume was deleted): its server stopped, its user's password no longer works",
    {
      id: Type.String(),
      node: Type.String(),
      volume: Type.String(),
      protocol: Type.String(),
      reason: Type.String(),
    },
  ),

  'network.applied': payload('the Network Node replaced its nftables table', {
    nodes: Type.Integer(),
    counters: Type.Integer(),
    ms: Type.Number(),
  }),
  'network.reset': payload('network settings were reset (a long press of the link button)', { by: Type.Literal('button') }),
  'wifi.mode': payload('Wi-Fi onboarding changed mode', { mode: Type.String(), from: Type.String(), hotspotSsid: Type.String() }),
  'wifi.forgotten': payload('a saved Wi-Fi network was forgotten', { name }),
  'discovery.announced': payload('the station is announced on the LAN (mDNS)', {
    hostname: Type.String(),
    service: Type.String(),
    port: Type.Integer(),
  }),

  // token holders only on /events (agent/auth/secrets.ts isAdminOnlyEvent)
  'pairing.opened': payload('a pairing window opened', pairing),
  'pairing.closed': payload('the pairing window closed', pairing),
  'pairing.session': payload('a browser paired (the window closes)', { ...pairing, id: Type.String(), client: Type.String() }),
  'pairing.revoked': payload('pairing sessions were revoked', { ...pairing, ids: names }),
};

/** Event name -> payload type. */
export type StationEvents = { [K in keyof typeof EVENT_PAYLOADS]: Static<(typeof EVENT_PAYLOADS)[K]> };
export type EventName = keyof StationEvents;

/** Every event name, in the order above. */
export const EVENT_NAMES = Object.keys(EVENT_PAYLOADS) as EventName[];

/** One event as the bus keeps it and /events sends it, narrowed by `type`. */
export type StationEvent = { [K in EventName]: { id: number; type: K; at: string; data: StationEvents[K] } }[EventName];

/** The JSON schema of one /events message (every event as one of its variants), for the OpenAPI document. */
export const StationEventSchema = Type.Union(
  EVENT_NAMES.map((type) =>
    Type.Object(
      {
        id: Type.Integer(),
        type: Type.Literal(type),
        at: Type.String({ description: 'ISO time' }),
        data: EVENT_PAYLOADS[type],
      },
      { description: EVENT_PAYLOADS[type].description },
    ),
  ),
  { $id: 'StationEvent', description: 'one server-sent event: `event:` is its type, `data:` this JSON' },
);
