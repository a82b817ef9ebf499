// GPIO lines through the sysfs interface. On the real /sys/class/gpio the button is watched with
// onoff (its native epoll addon wakes on edges, no polling); under any other root (a recorded tree
// in tests) the same interface is served by plain file reads and writes, polling the value file.
import { access, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DEFAULT_GPIO_SYSFS } from './chips.ts';

export type Level = 0 | 1;

export interface OutputLine {
  write(level: Level): Promise<void>;
  release(): Promise<void>;
}

export interface InputLine {
  read(): Promise<Level>;
  /** calls back on every change of level */
  watch(onChange: (level: Level) => void): void;
  release(): Promise<void>;
}

export interface GpioLines {
  output(gpio: number): Promise<OutputLine>;
  input(gpio: number): Promise<InputLine>;
}

interface OnoffGpio {
  read(): Promise<Level>;
  write(v: Level): Promise<void>;
  watch(cb: (err: Error | null | undefined, v: Level) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: { new (gpio: number, direction: string, edge?: string, options?: Record<string, unknown>): OnoffGpio; accessible: boolean };
}

/** Loads onoff (and with it the epoll native addon) on demand; nothing native loads at import. */
export function loadOnoff(): OnoffModule {
  return createRequire(import.meta.url)('onoff') as OnoffModule;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Lines under any sysfs-shaped root: export, direction and value are files. */
export function fileGpioLines(root: string, pollMs = 20): GpioLines {
  const prepare = async (gpio: number, direction: 'in' | 'out') => {
    const dir = join(root, `gpio${gpio}`);
    if (!(await exists(dir))) await writeFile(join(root, 'export'), String(gpio));
    await writeFile(join(dir, 'direction'), direction);
    return dir;
  };
  const unexport = (gpio: number) => writeFile(join(root, 'unexport'), String(gpio)).catch(() => undefined);
  return {
    async output(gpio) {
      const dir = await prepare(gpio, 'out');
      return {
        write: (level) => writeFile(join(dir, 'value'), String(level)),
        release: () => unexport(gpio),
      };
    },
    async input(gpio) {
      const dir = await prepare(gpio, 'in');
      const read = async (): Promise<Level> => ((await readFile(join(dir, 'value'), 'utf8')).trim() === '1' ? 1 : 0);
      let timer: NodeJS.Timeout | undefined;
      return {
        read,
        watch(onChange) {
          let last: Level | undefined;
          timer = setInterval(() => {
            read().then(
              (level) => {
                if (last !== undefined && level !== last) onChange(level);
                last = level;
              },
              () => undefined,
            );
          }, pollMs);
          timer.unref();
        },
        async release() {
          clearInterval(timer);
          await unexport(gpio);
        },
      };
    },
  };
}

/** Lines on the real sysfs through onoff (edge interrupts via epoll). */
export function onoffGpioLines(): GpioLines {
  const { Gpio } = loadOnoff();
  return {
    async output(gpio) {
      const line = new Gpio(gpio, 'out');
      return { write: (level) => line.write(level), release: async () => line.unexport() };
    },
    async input(gpio) {
      const line = new Gpio(gpio, 'in', 'both', { debounceTimeout: 20 });
      return {
        read: () => line.read(),
        watch: (onChange) =>
          line.watch((err, v) => {
            if (!err) onChange(v);
          }),
        release: async () => {
          line.unwatchAll();
          line.unexport();
        },
      };
    },
  };
}

export function gpioLines(root: string): GpioLines {
  return root === DEFAULT_GPIO_SYSFS ? onoffGpioLines() : fileGpioLines(root);
}
