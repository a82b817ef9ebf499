// The LED and link button on a sysfs GPIO tree DOUBLE shaped like a Raspberry Pi 5 on kernel 6.6
// (pinctrl-rp1 at base 571): the LED line is BCM 17 -> gpio588, the button BCM 27 -> gpio598.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { IndicatorSubsystem } from '../../../../agent/indicator/indicator-subsystem.ts';
import { AuthService } from '../../../../agent/auth/auth-service.ts';
import { EventBus } from '../../../../agent/events.ts';
import { fileGpioLines } from '../../../../hardware/gpio/lines.ts';
import { makeGpioSysfsDouble, gpioLayouts } from '../../../doubles/gpio-sysfs-double.ts';
import { cleanupAll } from '../../../helpers/cleanup.ts';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../../../../agent/errors.ts';

const ADMIN = `st_${'a'.repeat(43)}`;
const ADMIN_CALLER = { authorization: `Bearer ${ADMIN}`, client: '198.18.0.2' };
const LAN_CALLER = { client: '198.18.0.9', local: '198.18.0.1', userAgent: 'test' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, probe: () => Promise<boolean>) => {
  for (let i = 0; i < 100; i++) {
    if (await probe()) return;
    await sleep(20);
  }
  assert.unreachable(`timed out waiting for ${what}`);
};

test.after(cleanupAll);

function make(root: string, resets: string[], led: { health: 'ok' | 'degraded' | 'starting' }) {
  const auth = new AuthService(ADMIN, 100);
  const events = new EventBus();
  const indicator = new IndicatorSubsystem({
    config: {
      gpioSysfsRoot: root,
      gpioChipLabel: '',
      ledPin: 17,
      buttonPin: 27,
      bridge: 'stbr0',
      nodeSubnet: '10.134.0.0/24',
      meshNodePool: '10.160.0.0/11',
      stateDir: '/var/lib/station',
      meshTunDev: 'nbtest',
    },
    // The station's interfaces as os.networkInterfaces() lists them: a LAN, the node bridge, the mesh tun.
    interfaces: () => ({
      eth0: [
        {
          address: '198.18.0.1',
          netmask: '255.255.255.0',
          family: 'IPv4',
          mac: '00:00:00:00:00:01',
          internal: false,
          cidr: '198.18.0.1/24',
        },
      ],
      stbr0: [
        {
          address: '10.134.0.1',
          netmask: '255.255.255.0',
          family: 'IPv4',
          mac: '00:00:00:00:00:02',
          internal: false,
          cidr: '10.134.0.1/24',
        },
      ],
      nbtest: [{ address: '100.64.3.7', netmask: '255.192.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: '100.64.3.7/10' }],
    }),
    events,
    log: pino({ level: 'silent' }),
    auth: () => auth,
    ledInputs: () => ({ started: true, health: led.health, hotspot: false }),
    resetNetwork: async () => {
      resets.push('reset');
    },
    lines: (r) => fileGpioLines(r, 5),
  });
  return { indicator, auth, events };
}

test('Pi 5 offsets: the LED goes on (ok) at gpio588, a short press on gpio598 opens pairing', async () => {
  const tree = await makeGpioSysfsDouble((await gpioLayouts())['pi5-kernel-6.6']!, [
    { gpio: 588, value: 0 },
    { gpio: 598, value: 1 },
  ]);
  const resets: string[] = [];
  const led = { health: 'ok' as 'ok' | 'degraded' | 'starting' };
  const { indicator, auth } = make(tree.root, resets, led);
  await indicator.start();
  assert.equal(indicator.health(), { state: 'ok' });
  assert.equal(indicator.summary().gpio, { led: 588, chipBase: 571, button: 598 });
  assert.is(await tree.direction(588), 'out');
  assert.is(await tree.direction(598), 'in');
  await until('LED on', async () => (await tree.value(588)) === '1');
  assert.is(indicator.ledMode(), 'ok');

  // Anonymous changes are refused until the window opens.
  assert.throws(() => indicator.createSession(LAN_CALLER), /no pairing window/);
  await sleep(50); // the line has been read once: a press is a change from that level
  await tree.setValue(598, 0); // pressed (active low)
  await sleep(150);
  await tree.setValue(598, 1); // released
  await until('pairing open', async () => indicator.pairingState().open);
  assert.is(indicator.pairingState().openedBy, 'button');
  await until('LED shows pairing', async () => indicator.ledMode() === 'pairing');
  const session = indicator.createSession(LAN_CALLER);
  assert.not.throws(() => auth.authorizeMutation(`Bearer ${session.token}`, '198.18.0.9'));
  assert.equal(resets, []);
  await indicator.stop();
  assert.is(await tree.value(588), '0', 'the LED is off once the agent stops');
});

test('degraded health blinks the LED', async () => {
  const tree = await makeGpioSysfsDouble((await gpioLayouts())['pi4-kernel-6.6']!, [
    { gpio: 529, value: 0 },
    { gpio: 539, value: 1 },
  ]);
  const led = { health: 'degraded' as 'ok' | 'degraded' | 'starting' };
  const { indicator } = make(tree.root, [], led);
  await indicator.start();
  await until('degraded', async () => indicator.ledMode() === 'degraded');
  const levels = new Set<string>();
  // Sample for more than one 1.5 s period; '' is a read that met a write half-way (a file, not a pin).
  for (let i = 0; i < 80; i++) {
    const v = await tree.value(529);
    if (v) levels.add(v);
    await sleep(25);
  }
  assert.equal([...levels].sort(), ['0', '1'], 'the LED blinks');
  await indicator.stop();
});

test('without GPIO the feature is off with the reason, and pairing still works through the API', async () => {
  const resets: string[] = [];
  const { indicator, auth } = make('/nonexistent/sys/class/gpio', resets, { health: 'ok' });
  await indicator.start();
  assert.is(indicator.health().state, 'off');
  assert.match(indicator.health().reason!, /no GPIO sysfs interface.*station pair/);
  indicator.openPairing('api', ADMIN_CALLER);
  const session = indicator.createSession(LAN_CALLER);
  assert.not.throws(() => auth.authorizeMutation(`Bearer ${session.token}`, '198.18.0.9'));
  assert.throws(() => auth.authorizeMutation('Bearer ps_made-up', '198.18.0.9'), /not valid/);
  await indicator.stop();
});

test('not started (STATION_DISABLE=indicator): pairing answers 503 instead of handing out sessions nobody accepts', () => {
  const { indicator } = make('/nonexistent', [], { health: 'ok' });
  assert.throws(() => indicator.openPairing('api', ADMIN_CALLER), /pairing is off/);
  assert.throws(() => indicator.createSession(LAN_CALLER), /pairing is off/);
});

const expectCode = (fn: () => unknown, type: abstract new (...args: any[]) => Error, code: string) => {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type);
    assert.is((error as { code: string }).code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
};

test('a session cannot open pairing (only the admin token or the button can); nor list or revoke other sessions', async () => {
  const { indicator } = make('/nonexistent', [], { health: 'ok' });
  await indicator.start();
  indicator.openPairing('api', ADMIN_CALLER);
  const session = indicator.createSession(LAN_CALLER);
  const asSession = { authorization: `Bearer ${session.token}`, client: '198.18.0.9' };
  expectCode(() => indicator.openPairing('api', asSession), ForbiddenError, 'PAIRING_NEEDS_ADMIN_TOKEN');
  assert.is(indicator.pairing.isOpen(), false);
  expectCode(() => indicator.listSessions(asSession), ForbiddenError, 'PAIRING_NEEDS_ADMIN_TOKEN');
  expectCode(() => indicator.revokeAllSessions(asSession), ForbiddenError, 'PAIRING_NEEDS_ADMIN_TOKEN');
  expectCode(() => indicator.listSessions({ authorization: undefined, client: '198.18.0.9' }), UnauthorizedError, 'UNAUTHORIZED');
  // A session may end itself (signing out); the admin sees and ends any.
  assert.equal(
    indicator.listSessions(ADMIN_CALLER).map((s) => s.id),
    [session.id],
  );
  assert.ok(indicator.revokeSession(session.id, asSession));
  assert.equal(indicator.listSessions(ADMIN_CALLER), []);
  await indicator.stop();
});

test('pairing only from the LAN: not from a mesh address, not from a node, not arriving on the bridge', async () => {
  const { indicator } = make('/nonexistent', [], { health: 'ok' });
  await indicator.start();
  indicator.openPairing('api', ADMIN_CALLER);
  expectCode(() => indicator.createSession({ client: '100.64.9.1', local: '100.64.3.7' }), ForbiddenError, 'PAIRING_NOT_FROM_LAN');
  expectCode(() => indicator.createSession({ client: '10.134.0.5', local: '10.134.0.1' }), ForbiddenError, 'PAIRING_NOT_FROM_LAN');
  expectCode(() => indicator.createSession({ client: '10.134.0.5', local: '198.18.0.1' }), ForbiddenError, 'PAIRING_NOT_FROM_LAN');
  assert.ok(indicator.pairing.isOpen(), 'refused callers do not use the window up');
  assert.ok(indicator.createSession(LAN_CALLER).token);
  await indicator.stop();
});

test('refused attempts are capped per caller (429), apart from the sessions: a flood neither evicts a session nor blocks the owner', async () => {
  const { indicator, auth } = make('/nonexistent', [], { health: 'ok' });
  await indicator.start();
  indicator.openPairing('api', ADMIN_CALLER);
  const owner = indicator.createSession(LAN_CALLER);
  const flooder = { client: '198.18.0.66', local: '198.18.0.1' };
  for (let i = 0; i < 10; i++) expectCode(() => indicator.createSession(flooder), ForbiddenError, 'PAIRING_CLOSED');
  indicator.openPairing('api', ADMIN_CALLER);
  expectCode(() => indicator.createSession(flooder), TooManyRequestsError, 'TOO_MANY_REQUESTS');
  assert.not.throws(() => auth.authorizeMutation(`Bearer ${owner.token}`, '198.18.0.9'));
  assert.ok(indicator.createSession({ client: '198.18.0.10', local: '198.18.0.1' }).token, 'another caller still pairs');
  await indicator.stop();
});

test.run();
