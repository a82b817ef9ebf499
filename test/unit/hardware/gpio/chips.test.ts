import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readGpioChips, resolveGpio, parseChip } from '../../../../hardware/gpio/chips.ts';
import { makeGpioSysfsDouble, gpioLayouts } from '../../../doubles/gpio-sysfs-double.ts';
import { cleanupAll } from '../../../helpers/cleanup.ts';

test.after(cleanupAll);

test('BCM 17 on each board and kernel: the base is read from the chip, never assumed', async () => {
  const layouts = await gpioLayouts();
  const expected: Record<string, [string, number]> = {
    'pi5-kernel-6.6': ['pinctrl-rp1', 588],
    'pi5-kernel-6.1': ['pinctrl-rp1', 416],
    'pi4-kernel-6.6': ['pinctrl-bcm2711', 529],
    'pi4-kernel-5.15': ['pinctrl-bcm2711', 17],
  };
  for (const [name, [label, gpio]] of Object.entries(expected)) {
    const tree = await makeGpioSysfsDouble(layouts[name]!);
    const found = await readGpioChips(tree.root);
    assert.ok(found.available, name);
    if (!found.available) continue;
    const r = resolveGpio(found.chips, 17);
    assert.is(r.chip.label, label, name);
    assert.is(r.gpio, gpio, name);
  }
});

test('an unknown board needs the chip named; a named chip is used', async () => {
  const tree = await makeGpioSysfsDouble((await gpioLayouts())['unknown-board']!);
  const found = await readGpioChips(tree.root);
  if (!found.available) throw new Error('expected chips');
  assert.throws(() => resolveGpio(found.chips, 3), /cannot tell which GPIO chip.*gpio-mockup-A@0.*gpioChipLabel/);
  assert.is(resolveGpio(found.chips, 3, 'gpio-mockup-B').gpio, 11);
  assert.throws(() => resolveGpio(found.chips, 8, 'gpio-mockup-B'), /outside gpio-mockup-B \(8 lines\)/);
  assert.throws(() => resolveGpio(found.chips, 1, 'nope'), /no GPIO chip labelled nope/);
});

test('no sysfs GPIO (this machine): unavailable with the reason', async () => {
  const found = await readGpioChips('/nonexistent/sys/class/gpio');
  assert.is(found.available, false);
  if (!found.available) assert.match(found.reason, /no GPIO sysfs interface/);
});

test('a chip file with garbage is skipped, not trusted', () => {
  assert.is(parseChip('gpiochip0', { base: 'x', label: 'a', ngpio: '8' }), undefined);
  assert.equal(parseChip('gpiochip0', { base: '571\n', label: 'pinctrl-rp1\n', ngpio: '54\n' }), {
    name: 'gpiochip0',
    label: 'pinctrl-rp1',
    base: 571,
    ngpio: 54,
  });
});

test.run();
