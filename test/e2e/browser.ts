// Debian's Chromium driven by playwright-core, headless, with the flags that keep it from
// reaching anything on its own (no background networking, component updates, sync or QUIC).
// Each launch gets a fresh temporary profile (user-data-dir) from Playwright, removed on close.
import { chromium, type Browser } from 'playwright-core';
import { onCleanup } from '../helpers/cleanup.ts';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic', '--disable-dev-shm-usage'];

export async function launchChromium(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  onCleanup('chromium', () => browser.close());
  return browser;
}
