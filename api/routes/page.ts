// The status page: a few plain files from api/web served at `/` (outside /api/v1), gzipped once at
// start and revalidated by ETag. No build step, no external assets: the page works offline on a LAN.
// The setup page (/setup, the Wi-Fi network picker) is for the setup hotspot only: the home Wi-Fi
// password typed there must cross the hotspot's WPA2 link, never the LAN in clear, and only requests
// that arrive on the hotspot may join a network without the token. So /setup is served, and the
// captive-portal probes phones make are sent to it, only for a request that arrived on the hotspot
// (system.wifi.arrivedOnHotspot: its local address is the hotspot's, its caller inside that subnet);
// from anywhere else /setup sends the browser to the status page and the probes answer as online.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RoutePlugin } from '../types.ts';
import { rootMetricsRoute } from './metrics.ts';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  json: 'application/json',
  webmanifest: 'application/manifest+json',
};

/** api/web next to the sources, or (running from dist/) the one in the source tree. */
export function webRoot(): string {
  const candidates = ['../web/', '../../../api/web/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}index.html`)) ?? candidates[0]!;
}

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of readdirSync(dir)) {
    const type = TYPES[file.split('.').pop() ?? ''];
    if (!type) continue;
    const body = readFileSync(`${dir}${file}`);
    assets.set(file, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  }
  return assets;
}

/** An address as the host part of a URL (IPv6 in brackets, IPv4-mapped IPv6 as IPv4). */
const urlHost = (address: string | undefined): string => {
  const plain = (address ?? '').replace(/^::ffff:/, '');
  return plain.includes(':') ? `[${plain}]` : plain;
};

// Probes from Android, Apple, Windows and Firefox that decide "is there a login page?".
const CAPTIVE_PROBES = [
  '/generate_204',
  '/gen_204',
  '/hotspot-detect.html',
  '/library/test/success.html',
  '/ncsi.txt',
  '/connecttest.txt',
  '/success.txt',
  '/canonical.html',
];

export const pageRoutes: RoutePlugin = async (app, { system }) => {
  const assets = loadAssets(webRoot());
  const serve = (file: string) => async (request: { headers: Record<string, string | string[] | undefined> }, reply: FastifyReply) => {
    const asset = assets.get(file)!;
    reply.header('etag', asset.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
    if (file.endsWith('.html'))
      reply.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      );
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    reply.type(asset.type);
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  };
  const hide = { schema: { hide: true } };
  app.get('/', hide, serve('index.html'));
  // Prometheus scrapes /metrics by default; the same text as /api/v1/metrics.
  await app.register(rootMetricsRoute, { system });
  const viaHotspot = (request: FastifyRequest) => system.wifi.arrivedOnHotspot(request.ip, request.socket.localAddress);
  const setupPage = serve('setup.html');
  app.get('/setup', hide, async (request, reply) => (viaHotspot(request) ? setupPage(request, reply) : reply.redirect('/', 302)));
  for (const file of assets.keys()) if (!file.endsWith('.html')) app.get(`/${file}`, hide, serve(file));

  for (const probe of CAPTIVE_PROBES) {
    app.get(probe, hide, async (request, reply) => {
      // To the address the phone reached: the probe's Host is a foreign name (captive.apple.com).
      if (viaHotspot(request)) {
        const port = request.socket.localPort;
        return reply.redirect(`http://${urlHost(request.socket.localAddress)}${port && port !== 80 ? `:${port}` : ''}/setup`, 302);
      }
      // Online, or asked from the LAN: answer as the real endpoints do, so a phone there does not think it is captive.
      if (probe.endsWith('204')) return reply.status(204).send();
      return reply.type('text/plain').send('success');
    });
  }
};
