import { Type } from '@sinclair/typebox';

export const WifiStatusSchema = Type.Object(
  {
    available: Type.Boolean(),
    reason: Type.Union([Type.String(), Type.Null()], { description: 'why Wi-Fi onboarding is off' }),
    device: Type.Union([Type.String(), Type.Null()]),
    mode: Type.Union(['off', 'waiting', 'client', 'hotspot', 'connecting'].map((m) => Type.Literal(m))),
    connection: Type.Union([Type.String(), Type.Null()]),
    uplink: Type.Union([Type.String(), Type.Null()], {
      description: 'the way out that keeps the setup hotspot closed: a connected NetworkManager device (ethernet included) or the interface of a default route',
    }),
    hotspotSsid: Type.String(),
    viaHotspot: Type.Optional(
      Type.Boolean({
        description:
          'GET /wifi only: this request came over the setup hotspot (the setup page offers its network picker only then: a Wi-Fi password typed elsewhere ' +
          'would cross the LAN)',
      }),
    ),
    saved: Type.Array(Type.Object({ name: Type.String(), lastUsed: Type.Union([Type.String(), Type.Null()]) })),
  },
  { $id: 'WifiStatus' },
);

export const WifiNetworkSchema = Type.Object({
  ssid: Type.String(),
  bssid: Type.String(),
  signal: Type.Integer({ minimum: 0, maximum: 100 }),
  security: Type.String(),
  frequencyMHz: Type.Union([Type.Integer(), Type.Null()]),
  channel: Type.Union([Type.Integer(), Type.Null()]),
  inUse: Type.Boolean(),
});

export const WifiNetworksSchema = Type.Object({ networks: Type.Array(WifiNetworkSchema) });

export const WifiScanQuerySchema = Type.Object(
  { rescan: Type.Optional(Type.Union([Type.Literal('yes'), Type.Literal('no')])) },
  { additionalProperties: false },
);

export const WifiConnectSchema = Type.Object(
  {
    ssid: Type.String({ minLength: 1, maxLength: 32 }),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 63, description: 'WPA passphrase; omit for an open network' })),
  },
  { additionalProperties: false },
);

export const HotspotCredentialsSchema = Type.Object(
  {
    ssid: Type.String(),
    passphrase: Type.String({ description: "this box's WPA2 passphrase for its setup hotspot (also on the console)" }),
    security: Type.Literal('WPA2-PSK'),
  },
  { $id: 'HotspotCredentials' },
);

export const WifiNameParamsSchema = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
