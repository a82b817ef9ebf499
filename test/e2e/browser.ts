// Debian's Chromium driven by playwright-core, headless, with the flags in scripts/lib/chromium.ts.
// Each launch gets a fresh temporary profile (user-data-dir) from Playwright, removed on close.
// With `netns`, Chromium runs in that network namespace (a testbed station's): Playwright talks to
// it over a pipe, which crosses namespaces; only its network is the station's.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/lib/chromium.ts';
import { onCleanup } from '../helpers/cleanup.ts';
import { RUN_PREFIX } from '../helpers/run-prefix.ts';

/** A launcher script that enters `netns` (its network only) and execs Chromium with Playwright's arguments. */
async function chromiumIn(netns: string): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(netns)) throw new Error(`invalid network namespace name ${JSON.stringify(netns)}`);
  const dir = await mkdtemp(join(tmpdir(), `${RUN_PREFIX}-chromium-`));
  onCleanup(`chromium launcher ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const script = join(dir, 'chromium');
  await writeFile(script, `#!/bin/sh\nexec nsenter --net=/run/netns/${netns} ${CHROMIUM} "$@"\n`);
  await chmod(script, 0o700);
  return script;
}

export async function launchChromium(options: { netns?: string } = {}): Promise<Browser> {
  const executablePath = options.netns ? await chromiumIn(options.netns) : CHROMIUM;
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  onCleanup('chromium', () => browser.close());
  return browser;
}

/** The console errors and uncaught exceptions of `page` from now on, each with the URL it is about (a list that fills as they come). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}
