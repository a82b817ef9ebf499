// The station's configuration: one TypeBox schema gives the type, the defaults and validation.
// Sources, strongest first: STATION_* environment, $STATION_STATE_DIR/config.json, these defaults.
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const DnsLabel = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });
const Cidr4 = Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}$' });

export const ConfigSchema = Type.Object({
  stateDir: Type.String({ minLength: 1, default: '/var/lib/station', description: 'durable state, tokens, config.json' }),
  httpHost: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address the API and page listen on' }),
  httpPort: { ...Port, default: 8088 },
  lxcPath: Type.String({ default: '', description: 'LXC container path; empty means <stateDir>/lxc' }),
  templateCache: Type.String({ default: '', description: 'where built node templates are cached; empty means <stateDir>/templates' }),
  bridge: Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,15}$', default: 'stbr0', description: 'node bridge interface' }),
  nodeSubnet: { ...Cidr4, default: '10.134.0.0/24', description: 'IPv4 subnet for nodes on this station' },
  name: Type.String({ default: '', description: 'station name (DNS label); empty means the host name' }),
  domain: Type.String({ pattern: '^[a-z0-9.-]+$', default: 'mesh.internal', description: 'nodes are NODE.STATION.<domain>' }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  hardwareRefreshSeconds: Type.Integer({ minimum: 5, maximum: 86400, default: 300, description: 'how often the hardware report is refreshed' }),
  reconcileSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'period of the node reconcile loop' }),
  authFailureLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'failed token attempts per client per minute before 429' }),
}, { additionalProperties: false });

export type Config = Static<typeof ConfigSchema>;

export { DnsLabel };
