// Wi-Fi onboarding: what the station sees, joining a network, forgetting one.
import type { RoutePlugin } from '../types.ts';
import {
  WifiStatusSchema,
  WifiNetworksSchema,
  WifiScanQuerySchema,
  WifiConnectSchema,
  WifiNameParamsSchema,
  HotspotCredentialsSchema,
} from '../schemas/wifi.ts';
import { responses, MUTATION_ERRORS } from '../schemas/common.ts';

export const wifiRoutes: RoutePlugin = async (app, { system }) => {
  app.get(
    '/wifi',
    {
      schema: {
        tags: ['wifi'],
        summary: 'Wi-Fi mode (client, hotspot, ...), device and saved networks',
        response: responses({ 200: WifiStatusSchema }),
      },
    },
    async (request) => ({ ...system.wifi.status(), viaHotspot: system.wifi.arrivedOnHotspot(request.ip, request.socket.localAddress) }),
  );

  app.get(
    '/wifi/networks',
    {
      schema: {
        tags: ['wifi'],
        summary: 'networks in range, strongest first (?rescan=yes asks the radio to scan again)',
        querystring: WifiScanQuerySchema,
        response: responses({ 200: WifiNetworksSchema }, [503]),
      },
    },
    async (request) => ({ networks: await system.wifi.networks(request.query.rescan === 'yes') }),
  );

  // The hotspot's name and WPA2 passphrase: a secret, so a read that needs the token.
  app.get(
    '/wifi/hotspot',
    {
      schema: {
        tags: ['wifi'],
        summary: "the setup hotspot's name and WPA2 passphrase (needs the token)",
        security: [{ bearer: [] }],
        response: responses({ 200: HotspotCredentialsSchema }, [...MUTATION_ERRORS, 503]),
      },
    },
    async (request) => {
      system.auth.authorizeMutation(request.headers.authorization, request.ip);
      return system.wifi.hotspotCredentials();
    },
  );

  // Whoever has joined the (WPA2) setup hotspot knew the passphrase shown at the box, as with
  // balena's wifi-connect: a request that arrives over the hotspot may pick a network without the
  // token. From anywhere else (the LAN, the mesh, a node) it is an ordinary admin change.
  app.post(
    '/wifi/connect',
    {
      config: { publicMutation: true },
      schema: {
        tags: ['wifi'],
        summary: 'join a network (saved for next time); closes the setup hotspot. No token needed only over the setup hotspot itself',
        body: WifiConnectSchema,
        response: responses({ 200: WifiStatusSchema }, [...MUTATION_ERRORS, 409, 503]),
      },
    },
    async (request) => {
      if (!system.wifi.arrivedOnHotspot(request.ip, request.socket.localAddress)) system.auth.authorizeMutation(request.headers.authorization, request.ip);
      return system.wifi.connect(request.body.ssid, request.body.password);
    },
  );

  app.delete(
    '/wifi/networks/:name',
    {
      schema: {
        tags: ['wifi'],
        summary: 'forget a saved network',
        params: WifiNameParamsSchema,
        response: responses({ 200: WifiStatusSchema }, [...MUTATION_ERRORS, 404, 503]),
      },
    },
    async (request) => system.wifi.forget(request.params.name),
  );
};
