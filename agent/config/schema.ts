// The station's configuration: one TypeBox schema gives the type, the defaults and validation.
// Sources, strongest first: STATION_* environment, $STATION_STATE_DIR/config.json, these defaults.
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const DnsLabel = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const Cidr4 = Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}$' });

export const ConfigSchema = Type.Object(
  {
    stateDir: Type.String({ minLength: 1, default: '/var/lib/station', description: 'durable state, tokens, config.json' }),
    httpHost: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address the API and page listen on' }),
    httpPort: { ...Port, default: 8088, description: 'port of the API and the page (the image uses 80)' },
    httpAllowedHosts: Type.String({
      pattern: '^[a-zA-Z0-9.*:,\\[\\]\\s_-]*$',
      default: '',
      description:
        'extra names the API answers to besides its own (name, name.local, name.<domain>, localhost, its addresses), comma-separated; *.example.org for ' +
        'every name under it. Other Host headers get 421 (DNS rebinding)',
    }),
    lxcPath: Type.String({ default: '', description: 'LXC container path; empty means <stateDir>/lxc' }),
    templateCache: Type.String({ default: '', description: 'where built node templates are cached; empty means <stateDir>/templates' }),
    bridge: Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,15}$', default: 'stbr0', description: 'node bridge interface' }),
    nodeSubnet: { ...Cidr4, default: '10.134.0.0/24', description: 'IPv4 subnet for nodes on this station' },
    name: Type.String({ default: '', description: 'station name (DNS label); empty means the host name' }),
    domain: Type.String({ pattern: '^[a-z0-9.-]+$', default: 'mesh.internal', description: 'nodes are NODE.STATION.<domain>' }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    hardwareRefreshSeconds: Type.Integer({
      minimum: 5,
      maximum: 86400,
      default: 300,
      description: 'how often the hardware report is refreshed',
    }),
    reconcileSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'period of the node reconcile loop' }),
    fleetReportSeconds: Type.Integer({
      minimum: 10,
      maximum: 86400,
      default: 60,
      description: 'under balena: how often health, version and node counts are written to device tags',
    }),
    disable: Type.String({
      pattern: '^[a-z0-9,\\s-]*$',
      default: '',
      description: 'comma-separated subsystems to keep off, e.g. "mesh,wifi"',
    }),
    authFailureLimit: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'failed token attempts per client per minute before 429',
    }),
    // Local discovery, Wi-Fi onboarding, LED and link button (see docs/page.md).
    mdns: Type.Union([Type.Literal('on'), Type.Literal('off')], {
      default: 'on',
      description: 'announce <name>.local and _station._tcp over mDNS',
    }),
    wifiInterface: Type.String({
      pattern: '^[a-zA-Z0-9_.-]{0,15}$',
      default: '',
      description: 'Wi-Fi device for onboarding; empty means the first one NetworkManager lists',
    }),
    hotspotSsid: Type.String({ maxLength: 32, default: '', description: 'setup hotspot name; empty means "<name>-setup"' }),
    hotspotAfterSeconds: Type.Integer({
      minimum: 10,
      maximum: 86400,
      default: 120,
      description: 'open the setup hotspot when no network has been up this long',
    }),
    gpioSysfsRoot: Type.String({ minLength: 1, default: '/sys/class/gpio', description: 'sysfs GPIO root (the LED and link button)' }),
    gpioChipLabel: Type.String({
      default: '',
      description: 'label of the GPIO chip carrying the pins; empty means the Raspberry Pi header chip',
    }),
    ledPin: Type.Integer({
      minimum: -1,
      maximum: 1023,
      default: 17,
      description: 'status LED line on that chip (BCM number on a Pi); -1 for none',
    }),
    buttonPin: Type.Integer({
      minimum: -1,
      maximum: 1023,
      default: 6,
      description:
        'link button line, wired to ground (active low); BCM 6 because lines 0-8 are pulled up at reset on a Pi, so an idle button reads 1; -1 for none',
    }),
    // Virtual Private Mesh (see docs/mesh.md).
    meshListenPort: Type.Integer({ minimum: 0, maximum: 65535, default: 4242, description: 'UDP port Nebula listens on (0: any)' }),
    meshPublicEndpoint: Type.String({
      pattern: '^$|^[a-zA-Z0-9.-]+:\\d{1,5}$',
      default: '',
      description: 'HOST:PORT where other stations reach this Nebula from the internet (a forwarded port); set it to make this station a lighthouse and relay',
    }),
    meshPublicApi: Type.String({
      pattern: '^$|^https?://',
      default: '',
      description: 'URL where joining stations reach this API (put in invites); empty means the endpoint host with the HTTP port',
    }),
    meshTunDev: Type.String({
      pattern: '^[a-zA-Z0-9_.-]{0,15}$',
      default: '',
      description: 'Nebula tun device; empty means one derived from the station name (unique per host)',
    }),
    meshNodePool: {
      ...Cidr4,
      default: '10.160.0.0/11',
      description:
        'authority only: the range node subnets of its stations come from (a /24 each, inside one /16 per owner chosen from its CA); a station in a mesh ' +
        'uses its allocated subnet instead of nodeSubnet',
    },
    meshSyncSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 10,
      description: 'how often members fetch lighthouses and the blocklist from their authority',
    }),
    // Where node volumes live (see docs/storage.md).
    storageDriver: Type.Union([Type.Literal('auto'), Type.Literal('dir'), Type.Literal('btrfs')], {
      default: 'auto',
      description:
        'node volumes: btrfs (subvolumes with quotas and snapshots: on the state directory where that is btrfs, else on a ' +
        'loop-backed pool file; directory volumes move in at start), auto (btrfs, or dir where btrfs cannot work, saying why), ' +
        'dir (plain directories)',
    }),
    storagePoolFile: Type.String({
      default: '',
      description:
        'btrfs storage where the state directory is not on btrfs: the pool file; ' +
        'empty means <stateDir>/storage/pool.img (mounted at <stateDir>/storage/pool)',
    }),
    storagePoolSizeMb: Type.Integer({
      minimum: 0,
      maximum: 16_777_216,
      default: 0,
      description:
        'size of a new pool file in MiB (sparse: it takes only what is written; an existing one keeps its size); ' +
        '0 means half the free space of its file system, at least 128',
    }),
    // Infinite Disk (see docs/disk.md): what this station offers its owner's other stations, and how it looks after copies.
    diskOfferGb: Type.Integer({
      minimum: 0,
      maximum: 1_048_576,
      default: 10,
      description: "GiB this station keeps for encrypted copies of its owner's other stations' nodes (never beyond its free space); 0 offers none",
    }),
    diskStorePort: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 8713,
      description: "port of the copy store (rclone serve restic, append-only) on this station's mesh address",
    }),
    diskPeerLostSeconds: Type.Integer({
      minimum: 1,
      maximum: 2_592_000,
      default: 3600,
      description: 'a peer holding copies that is gone this long gets its copies replaced on another peer',
    }),
    diskCheckSeconds: Type.Integer({
      minimum: 0,
      maximum: 2_592_000,
      default: 86_400,
      description: 'seconds between checks of each copy (restic check --read-data-subset); 0 turns checks off',
    }),
    diskPruneDelaySeconds: Type.Integer({
      minimum: 0,
      maximum: 2_592_000,
      default: 86_400,
      description:
        "a prune request signed by the owner's authority opens its repository for pruning no sooner than this after the store received it (logged meanwhile)",
    }),
    // Replicas (see docs/replicas.md): the owner's lease store (etcd members on three or five stations).
    replicasRoundSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 10,
      description: 'seconds between rounds of the lease store: members and leader read; on the authority, one membership change',
    }),
    replicasLeaseSeconds: Type.Integer({
      minimum: 3,
      maximum: 300,
      default: 10,
      description: "TTL of a replicated node's lease: an Active that cannot renew it within this stops its copy, and an Inactive may take over after it",
    }),
    replicasMemberLostSeconds: Type.Integer({
      minimum: 1,
      maximum: 2_592_000,
      default: 3600,
      description: 'a lease store member whose station is gone this long is removed (and replaced when another station can be)',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export { DnsLabel };
