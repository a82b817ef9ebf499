// The balena fleet files (image/balena/) have the shape balena documents: compose labels
// (https://docs.balena.io/reference/supervisor/docker-compose/), update strategy labels
// (https://docs.balena.io/learn/deploy/release-strategy/update-strategies/), the Dockerfile
// template variables (https://docs.balena.io/learn/develop/dockerfile/) and balena.yml.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import { parse } from 'yaml';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const compose = parse(read('image/balena/docker-compose.yml')) as any;
const service = compose.services?.station;
const pkg = JSON.parse(read('package.json'));

// Keys balena's compose support documents for services; anything else is rejected or ignored.
const SUPPORTED_SERVICE_KEYS = new Set([
  'build',
  'cap_add',
  'cap_drop',
  'command',
  'devices',
  'depends_on',
  'dns',
  'dns_search',
  'entrypoint',
  'environment',
  'env_file',
  'expose',
  'extra_hosts',
  'group_add',
  'healthcheck',
  'image',
  'init',
  'labels',
  'mac_address',
  'network_mode',
  'networks',
  'oom_kill_disable',
  'oom_score_adj',
  'pid',
  'ports',
  'privileged',
  'read_only',
  'restart',
  'security_opt',
  'shm_size',
  'stop_grace_period',
  'stop_signal',
  'sysctls',
  'storage_opt',
  'tmpfs',
  'ulimits',
  'user',
  'userns_mode',
  'volumes',
  'working_dir',
  'cpu_shares',
  'cpu_quota',
  'cpuset',
  'cpus',
  'domainname',
  'hostname',
  'ipc',
  'mem_limit',
  'mem_reservation',
  'memswap_limit',
  'ulimits',
]);

test('compose: one privileged service on the host network, compose file format 2.x', () => {
  assert.match(String(compose.version), /^2(\.\d)?$/);
  assert.ok(service, 'a station service');
  assert.equal(service.privileged, true);
  assert.equal(service.network_mode, 'host');
  for (const key of Object.keys(service)) assert.ok(SUPPORTED_SERVICE_KEYS.has(key), `service key ${key} is not supported by balena`);
});

test('compose: the supervisor API, balena API, dbus, kernel modules and sysfs features are on', () => {
  for (const feature of ['supervisor-api', 'balena-api', 'dbus', 'kernel-modules', 'sysfs']) {
    assert.equal(service.labels[`io.balena.features.${feature}`], '1', feature);
  }
});

test('compose: hand-over update strategy with a numeric timeout in ms', () => {
  assert.equal(service.labels['io.balena.update.strategy'], 'hand-over');
  const timeout = service.labels['io.balena.update.handover-timeout'];
  assert.type(timeout, 'string');
  assert.match(timeout, /^\d+$/);
  assert.ok(Number(timeout) >= 30_000, 'long enough for the agent to start and take its nodes over');
});

test('compose: node state on a named volume mounted at the agent state dir', () => {
  const [name, path] = String(service.volumes[0]).split(':');
  assert.ok(name && name in compose.volumes, `named volume ${name} declared at the top level`);
  assert.equal(path, '/var/lib/station');
  assert.equal(service.environment.STATION_STATE_DIR, '/var/lib/station');
  assert.equal(service.environment.STATION_HTTP_PORT, '80');
});

test('Dockerfile.template: balenalib base for %%BALENA_ARCH%%, Node 24, the engines, the agent on port 80', () => {
  const dockerfile = read('image/balena/Dockerfile.template');
  assert.equal(service.build.dockerfile, 'image/balena/Dockerfile.template');
  const froms = dockerfile.match(/^FROM .*/gm) ?? [];
  assert.ok(froms.length >= 2);
  for (const from of froms.filter((f) => !/^FROM base$/.test(f))) assert.match(from, /^FROM balenalib\/%%BALENA_ARCH%%-debian:bookworm-(run|build)/);
  assert.match(dockerfile, /node@24\b/);
  for (const pkgName of ['lxc', 'nebula', 'nftables', 'dnsmasq-base']) assert.match(dockerfile, new RegExp(`\\b${pkgName}\\b`));
  assert.match(dockerfile, /STATION_HTTP_PORT=80/);
  assert.match(dockerfile, /dist\/agent\/main\.js/);
  // every source directory it copies exists in the repository
  for (const [, src] of dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)) assert.ok(existsSync(`${ROOT}${src}`), `COPY ${src}`);
});

test('balena.yml: an application of this version for the Pi 4/5 and x86-64', () => {
  const meta = parse(read('image/balena/balena.yml')) as any;
  assert.equal(meta.type, 'sw.application');
  assert.equal(meta.version, pkg.version);
  assert.ok(meta.data.supportedDeviceTypes.includes(meta.data.defaultDeviceType));
  for (const type of ['raspberrypi4-64', 'raspberrypi5', 'generic-amd64']) assert.ok(meta.data.supportedDeviceTypes.includes(type), type);
});

test.run();
