// The status page in headless Chromium, as the page tests open it: the page agent with a browser and
// a page whose console errors are collected (startPageSession); a page opened until it follows the
// event stream (openLive); and a mark on its window that a reload would lose (markPage, notReloaded),
// which is how these tests tell that the page changed "without a reload".
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { AgentHandle } from '../helpers/agent-process.ts';
import { launchChromium, watchErrors } from './browser.ts';
import { startPageAgent } from './page-agent.ts';

// Functions passed to page.evaluate run in the browser (the page's CSP forbids evaluating strings).
declare const window: { marker?: number };

export interface PageSession {
  agent: AgentHandle;
  /** the agent can run nodes on this machine */
  nodesAvailable: boolean;
  browser: Browser;
  page: Page;
  /** the console errors of `page` (a list that fills as they come) */
  pageErrors: string[];
}

/** The page agent on `nodeSubnet` (test/e2e/page-agent.ts), Chromium, and a blank page of that size. */
export async function startPageSession(nodeSubnet: string, viewport: { width: number; height: number }): Promise<PageSession> {
  const { agent, nodesAvailable } = await startPageAgent(nodeSubnet);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  return { agent, nodesAvailable, browser, page, pageErrors: watchErrors(page) };
}

/**
 * Goes to the status page at `url` and waits until it has loaded and follows the event stream. A page
 * that does not load says which of its requests were still open then, and for how long (the page is
 * loaded once every first read answered).
 */
export async function openLive(p: Page, url: string): Promise<void> {
  const open = new Map<string, number>();
  const started = (r: { url(): string }) => void open.set(r.url(), Date.now());
  const ended = (r: { url(): string }) => void open.delete(r.url());
  p.on('request', started);
  p.on('requestfinished', ended);
  p.on('requestfailed', ended);
  try {
    await p.goto(url);
    await p.waitForSelector('body[data-loaded="true"]');
    await p.waitForSelector('#live.on');
  } catch (error) {
    const still = [...open].map(([u, at]) => `${new URL(u).pathname} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
    throw new Error(`${(error as Error).message}\nrequests still open: ${still.join(', ') || 'none'}`);
  } finally {
    p.off('request', started);
    p.off('requestfinished', ended);
    p.off('requestfailed', ended);
  }
}

/** Marks the page's window (notReloaded checks the mark is still there). */
export async function markPage(p: Page): Promise<void> {
  await p.evaluate(() => {
    window.marker = 42;
  });
}

export const notReloaded = async (p: Page) => assert.is(await p.evaluate(() => window.marker), 42, 'the page was not reloaded');
