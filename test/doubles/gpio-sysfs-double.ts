// A sysfs GPIO tree DOUBLE (no GPIO exists on the test machines): a temp directory shaped like
// /sys/class/gpio, with gpiochipN/{base,label,ngpio} from a layout in test/fixtures/gpio/layouts.json
// and, for the lines a test uses, gpioN/{direction,value,edge} as the kernel shows them once exported.
import { mkdtemp, mkdir, writeFile, readFile, rm, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

export type GpioLayout = { base: number; label: string; ngpio: number }[];

export async function gpioLayouts(): Promise<Record<string, GpioLayout>> {
  const all = JSON.parse(await readFile(new URL('../fixtures/gpio/layouts.json', import.meta.url), 'utf8')) as Record<string, GpioLayout | string>;
  return Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('_'))) as Record<string, GpioLayout>;
}

export interface GpioSysfsDouble {
  root: string;
  value(gpio: number): Promise<string>;
  /** what the outside world does to an input line (a button pulling it low) */
  setValue(gpio: number, level: 0 | 1): Promise<void>;
  direction(gpio: number): Promise<string>;
}

export async function makeGpioSysfsDouble(layout: GpioLayout, lines: { gpio: number; value: 0 | 1 }[] = []): Promise<GpioSysfsDouble> {
  const root = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-gpio-`));
  onCleanup(`gpio double ${root}`, () => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
  for (const chip of layout) {
    const dir = join(root, `gpiochip${chip.base}`);
    await mkdir(dir);
    await writeFile(join(dir, 'base'), `${chip.base}\n`);
    await writeFile(join(dir, 'label'), `${chip.label}\n`);
    await writeFile(join(dir, 'ngpio'), `${chip.ngpio}\n`);
  }
  for (const line of lines) {
    const dir = join(root, `gpio${line.gpio}`);
    await mkdir(dir);
    await writeFile(join(dir, 'direction'), 'in\n');
    await writeFile(join(dir, 'edge'), 'none\n');
    await writeFile(join(dir, 'value'), `${line.value}\n`);
  }
  return {
    root,
    value: async (gpio) => (await readFile(join(root, `gpio${gpio}`, 'value'), 'utf8')).trim(),
    // Replaced whole (write then rename), as a pin changes: a reader never sees a half-written file.
    setValue: async (gpio, level) => {
      await writeFile(join(root, `gpio${gpio}`, 'value.new'), `${level}\n`);
      await rename(join(root, `gpio${gpio}`, 'value.new'), join(root, `gpio${gpio}`, 'value'));
    },
    direction: async (gpio) => (await readFile(join(root, `gpio${gpio}`, 'direction'), 'utf8')).trim(),
  };
}
