// GPIO chips as the kernel's sysfs interface shows them, and the mapping from a header pin's offset
// (BCM number) to the kernel's global GPIO number. On a Raspberry Pi 5 the header sits on the RP1
// chip, whose base moved between kernels (pinctrl-rp1 at 571 on 6.6+, 399 on some 6.1 builds);
// Pi 4 kernels 6.6+ put pinctrl-bcm2711 at 512 instead of 0. So the base is read, never assumed.
// Reading (readGpioChips) takes the sysfs root as a parameter so tests run against a recorded tree.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_GPIO_SYSFS = '/sys/class/gpio';

export interface GpioChip {
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Chips whose lines are the 40-pin header, best first. */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2712', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

export type GpioAvailability = { available: true; chips: GpioChip[] } | { available: false; reason: string };

/** Parses one chip directory's three files (pure). */
export function parseChip(name: string, files: { base: string; label: string; ngpio: string }): GpioChip | undefined {
  const base = Number(files.base.trim());
  const ngpio = Number(files.ngpio.trim());
  if (!Number.isInteger(base) || base < 0 || !Number.isInteger(ngpio) || ngpio <= 0) return undefined;
  return { name, label: files.label.trim(), base, ngpio };
}

export async function readGpioChips(root: string = DEFAULT_GPIO_SYSFS): Promise<GpioAvailability> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      available: false,
      reason:
        code === 'ENOENT'
          ? `${root} does not exist: this kernel has no GPIO sysfs interface (GPIOLIB / GPIO_SYSFS not built in), so the LED and link button are off`
          : `${root} cannot be read (${code}): the LED and link button are off`,
    };
  }
  const chips: GpioChip[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort()) {
    try {
      const read = (f: string) => readFile(join(root, name, f), 'utf8');
      const chip = parseChip(name, { base: await read('base'), label: await read('label'), ngpio: await read('ngpio') });
      if (chip) chips.push(chip);
    } catch {
      /* a chip that vanished while listing: skip it */
    }
  }
  if (!chips.length) return { available: false, reason: `${root} lists no GPIO chips: the LED and link button are off` };
  return { available: true, chips };
}

/**
 * The global GPIO number of line `offset` on the header chip (pure). `label` picks a chip by name
 * when set; otherwise the first known header chip, otherwise the only chip there is.
 */
export function resolveGpio(chips: GpioChip[], offset: number, label = ''): { gpio: number; chip: GpioChip } {
  let chip: GpioChip | undefined;
  if (label) chip = chips.find((c) => c.label === label);
  else {
    for (const known of HEADER_CHIP_LABELS) {
      chip = chips.find((c) => c.label === known);
      if (chip) break;
    }
    if (!chip && chips.length === 1) chip = chips[0];
  }
  const labels = chips.map((c) => `${c.label}@${c.base}`).join(', ');
  if (!chip)
    throw new Error(
      label ? `no GPIO chip labelled ${label} (found ${labels})` : `cannot tell which GPIO chip is the header (found ${labels}); set gpioChipLabel`,
    );
  if (!Number.isInteger(offset) || offset < 0 || offset >= chip.ngpio) throw new Error(`line ${offset} is outside ${chip.label} (${chip.ngpio} lines)`);
  return { gpio: chip.base + offset, chip };
}
