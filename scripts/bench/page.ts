// Benchmark: the status page in headless Chromium (Debian's, through playwright-core). For several
// cold loads (a fresh browser context each: empty cache): bytes transferred (navigation plus every
// resource, headers included, from the Resource Timing API; the open /events stream excluded), time
// to first contentful paint, and time until the station's data is on screen. Baseline in the same
// run: a tiny static document (the page's 0.5 kB favicon) from the same server.
// Everything (agent and browser) runs inside a network namespace made here and removed at the end.
//   node scripts/bench/page.ts        (BENCH_LOADS=9 for more loads)
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { exec } from '../../agent/exec.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../lib/chromium.ts';
import { removeNetns } from '../lib/netns.ts';
import { startBenchAgent } from './lib/agent.ts';
import { median, summarise } from './lib/stats.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NS = `stb${randomBytes(2).toString('hex')}pg`;
const LOADS = Number(process.env.BENCH_LOADS ?? 7);
const PORT = 18088;
const URL_BASE = `http://127.0.0.1:${PORT}`;

interface Load {
  bytes: number;
  requests: number;
  fcpMs: number | null;
  dataMs: number | null;
}

// Runs in the page (a function: the page's CSP forbids evaluating strings).
declare const performance: {
  getEntriesByType(t: string): { name: string; transferSize?: number; startTime: number; initiatorType?: string }[];
};
function measure(): Load {
  const nav = performance.getEntriesByType('navigation');
  const res = performance.getEntriesByType('resource').filter((r) => !r.name.endsWith('/api/v1/events'));
  const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
  const data = performance.getEntriesByType('mark').find((m) => m.name === 'station-data-rendered');
  return {
    bytes: [...nav, ...res].reduce((sum, e) => sum + (e.transferSize ?? 0), 0),
    requests: nav.length + res.length,
    fcpMs: fcp ? fcp.startTime : null,
    dataMs: data ? data.startTime : null,
  };
}

async function loadOnce(browser: Browser, url: string, waitForData: boolean): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  if (waitForData) await page.waitForSelector('body[data-loaded="true"]');
  await page.waitForTimeout(300); // let the paint entries land
  const load = await page.evaluate(measure);
  await context.close();
  return load;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), `${NS}-state-`));
  const bin = await mkdtemp(join(tmpdir(), `${NS}-bin-`));
  let agent: ChildProcess | undefined;
  let browser: Browser | undefined;
  await exec(['ip', 'netns', 'add', NS]);
  try {
    await exec(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
    agent = await startBenchAgent(NS, PORT, { STATION_STATE_DIR: stateDir, STATION_DISABLE: 'nodes,network,mesh,fleet' });
    // Chromium runs in the namespace too: a wrapper Playwright launches (it talks to it over a pipe).
    const wrapper = join(bin, 'chromium-in-netns');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} ${CHROMIUM} "$@"\n`);
    await chmod(wrapper, 0o755);
    browser = await chromium.launch({ executablePath: wrapper, headless: true, args: CHROMIUM_ARGS });

    await loadOnce(browser, `${URL_BASE}/`, true); // warm the agent's own caches (hardware report), not the browser's
    const page: Load[] = [];
    const baseline: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      page.push(await loadOnce(browser, `${URL_BASE}/`, true));
      baseline.push(await loadOnce(browser, `${URL_BASE}/favicon.svg`, false));
    }
    const web = join(ROOT, 'api/web');
    const files = readdirSync(web).filter((f) => /\.(html|js|css|svg)$/.test(f) && !f.startsWith('setup'));
    const raw = files.reduce((s, f) => s + readFileSync(join(web, f)).length, 0);
    const gz = files.reduce((s, f) => s + gzipSync(readFileSync(join(web, f)), { level: 9 }).length, 0);
    const num = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
    const summary = {
      benchmark: 'page',
      loads: LOADS,
      chromium: browser.version(),
      page: {
        bytesTransferred: summarise(page.map((l) => l.bytes)),
        requests: median(page.map((l) => l.requests)),
        firstContentfulPaintMs: summarise(num(page.map((l) => l.fcpMs))),
        dataRenderedMs: summarise(num(page.map((l) => l.dataMs))),
      },
      baseline: {
        what: 'favicon.svg as a document, same server',
        bytesTransferred: summarise(baseline.map((l) => l.bytes)),
        firstContentfulPaintMs: summarise(num(baseline.map((l) => l.fcpMs))),
      },
      ratioFcpToBaseline: Number((median(num(page.map((l) => l.fcpMs))) / median(num(baseline.map((l) => l.fcpMs)))).toFixed(2)),
      staticAssets: { files, bytes: raw, gzipBytes: gz },
      budgetBytes: 150 * 1024,
      withinBudget: median(page.map((l) => l.bytes)) <= 150 * 1024,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await browser?.close().catch(() => undefined);
    if (agent?.pid) {
      agent.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
    }
    await removeNetns(NS);
    await rm(stateDir, { recursive: true, force: true });
    await rm(bin, { recursive: true, force: true });
  }
}

await main();
