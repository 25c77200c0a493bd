// Bench: the web console in headless Chromium (Debian's, via playwright-core) against a real `outpost serve`
// whose ansible-playbook is the bench's stand-in (bench/support/fake-ansible), each figure beside its floor
// measured in the same run by a bare client of the same data:
//  - a finished job of 200,000 log lines: navigation -> last screen shown; search over all lines; the
//    longest main-thread task while scrolling the whole log. Floor: a bare SSE client reading the stream.
//  - following a job that writes 2,000 lines/s for 60 s: how far the view is behind the bare SSE client
//    (the time the first line it does not show yet has been at the bare client), and long tasks.
//  - the fleet page with 5,000 hosts: navigation -> table shown; one filter keystroke -> painted.
//    Floor: a plain fetch of GET /v1/hosts.
//  - the bundle's gzip size, the app's own code apart from the libraries.
// Page-side code is passed as strings: this file is type-checked without the DOM library.
import { readdir, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { Registry } from '../src/registry/registry.ts';
import { launchChromium } from '../test/support/chromium.ts';
import { startRedis } from '../test/support/redis.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { BENCH_TOKEN, api, startService, submitJob, waitForEnd } from './support/outpost-service.ts';
import { printTable, readFlags, ROOT, writeResult } from './support/report.ts';
import { followSse } from './support/sse-client.ts';
import { nowMs, percentile, round } from './support/stats.ts';

const flags = readFlags({ lines: 200_000, rate: 2000, seconds: 60, hosts: 5000, searches: 5 });
const machine = machineInfo();
console.log(`console: headless Chromium; ${describeMachine(machine)}`);

// Collects long tasks (> 50 ms main-thread blocks) from the first moment of every page.
const LONG_TASKS = `window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasks.push([performance.timeOrigin + entry.startTime, entry.duration]);
}).observe({ type: 'longtask', buffered: true });`;

/** The longest main-thread task (ms) that started between two epoch times; 0 when none passed 50 ms. */
async function longestTask(page: Page, from: number, to: number): Promise<number> {
  const tasks = await page.evaluate<[number, number][]>('window.__longTasks');
  return tasks
    .filter(([at]) => at >= from && at <= to)
    .reduce((max, [, duration]) => Math.max(max, duration), 0);
}

/** Resolves after the next painted frame. */
const PAINTED = 'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))';

async function bundleSizes(): Promise<Record<string, number>> {
  const dir = path.join(ROOT, 'dist/web/assets');
  const sizes: Record<string, number> = { appGzipKiB: 0, vendorGzipKiB: 0, totalRawKiB: 0 };
  for (const name of await readdir(dir)) {
    const size = (await stat(path.join(dir, name))).size / 1024;
    if (name.endsWith('.gz')) {
      const key = name.startsWith('vendor-') ? 'vendorGzipKiB' : 'appGzipKiB';
      sizes[key] = (sizes[key] ?? 0) + size;
    } else if (!name.endsWith('.br')) sizes.totalRawKiB = (sizes.totalRawKiB ?? 0) + size;
  }
  return sizes;
}

async function signIn(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('API token').fill(BENCH_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Fleet' }).waitFor();
}

/** A job whose stand-in ansible-playbook writes numbered 100-byte stdout lines (see fake-ansible). */
function submitLines(vars: Record<string, number>): Promise<string> {
  return submitJob(service.url, {
    kind: 'run-playbook',
    playbook: 'test/fixtures/playbooks/ping.yml',
    hosts: ['localhost'],
    options: { extraVars: { bench_mode: 'stdout', bench_numbered: true, bench_line_bytes: 100, ...vars } },
  });
}

const redis = await startRedis();
const varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-console-'));
const service = await startService({
  redisUrl: redis.url,
  varDir,
  fakeAnsible: true,
  env: { OUTPOST_LOG_MAX_ENTRIES: String(flags.lines * 2), OUTPOST_LOG_LEVEL: 'warn' },
});
// The bench's probes are strings evaluated in the page, which the console's CSP (rightly) forbids.
const browser = await launchChromium({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
const page = browser.context.pages()[0] ?? (await browser.context.newPage());
await page.addInitScript(LONG_TASKS);
const base = service.url;
const results: Record<string, unknown> = {};
try {
  await signIn(page, base);

  // 1. A finished job of `lines` lines.
  const big = await submitLines({ bench_events: flags.lines, bench_rate: 0 });
  await waitForEnd(base, big);
  const floorStart = nowMs();
  const bare = await followSse(base, big).done;
  const bareReadMs = (bare.lastAt ?? nowMs()) - floorStart;
  // The stand-in's lines plus Outpost's own few (`outpost: time limit ...`): the page must show as many.
  const logLines = bare.byType.stdout ?? 0;
  if (logLines < flags.lines || logLines > flags.lines + 10)
    throw new Error(`bare client read ${logLines} lines, expected ${flags.lines} and Outpost's own few`);

  await page.goto(`${base}/jobs/${big}`, { waitUntil: 'commit' });
  // The last screen: the last line drawn. Then every line in the page (search covers them all).
  const inPage = async (condition: string): Promise<number> =>
    (
      await page.waitForFunction(`(${condition}) ? performance.now() : false`, undefined, {
        polling: 'raf',
        timeout: 120_000,
      })
    ).jsonValue() as Promise<number>;
  const lastScreenMs = await inPage(
    `[...document.querySelectorAll('.log .line')].some((line) => line.textContent.startsWith('line ${flags.lines} '))`,
  );
  const allLinesMs = await inPage(
    `document.querySelector('.log[data-lines="${logLines}"]') && document.querySelector('[data-connection="complete"]')`,
  );
  const searches: number[] = [];
  for (let i = 0; i < flags.searches; i++) {
    const target = Math.floor(((i + 1) / (flags.searches + 1)) * flags.lines);
    searches.push(
      await page.evaluate<number>(`(async () => {
        const input = document.querySelector('.log-tools input[type=search]');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        set.call(input, '');
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await ${PAINTED};
        const t0 = performance.now();
        set.call(input, 'line ${target} ');
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((resolve) => {
          // Found: the current match is the stand-in's line (its index is shifted by Outpost's own lines).
          const check = () => document.querySelector('.log .line.current mark')?.closest('.line')?.textContent.startsWith('line ${target} ') ? resolve() : requestAnimationFrame(check);
          check();
        });
        return performance.now() - t0;
      })()`),
    );
  }
  const scrollFrom = nowMs();
  await page.evaluate(`(async () => {
    const log = document.querySelector('.log');
    for (let i = 0; i <= 100; i++) {
      log.scrollTop = (log.scrollHeight - log.clientHeight) * ((i * 37) % 101) / 100;
      await ${PAINTED};
    }
  })()`);
  const scrollLongest = await longestTask(page, scrollFrom, nowMs());
  results.bigLog = {
    lines: flags.lines,
    bareReadMs,
    lastScreenMs,
    allLinesMs,
    searches,
    scrollLongestTaskMs: scrollLongest,
  };

  // 2. Following a job that writes `rate` lines/s for `seconds`.
  const total = flags.rate * flags.seconds;
  await page.goto(`${base}/jobs`);
  const live = await submitLines({ bench_events: total, bench_rate: flags.rate, bench_start_delay_ms: 4000 });
  const bareTimes: number[] = [];
  const follower = followSse(base, live, {
    onBlock: (block, at) => {
      if (block.type === 'stdout') bareTimes.push(at);
    },
  });
  await page.goto(`${base}/jobs/${live}`);
  await page.evaluate(`(() => {
    window.__samples = [];
    const sample = () => {
      const log = document.querySelector('.log');
      window.__samples.push([performance.timeOrigin + performance.now(), Number(log ? log.dataset.lines : 0)]);
      if (!document.querySelector('[data-connection="complete"]')) requestAnimationFrame(sample);
    };
    sample();
  })()`);
  await page.waitForSelector('[data-connection="complete"]', { timeout: (flags.seconds + 120) * 1000 });
  await follower.done;
  const samples = await page.evaluate<[number, number][]>('window.__samples');
  // Behind = how long the first line the view does not show yet has been at the bare client.
  const behind = samples.map(([at, shown]) => {
    const waiting = bareTimes[shown];
    return waiting !== undefined && waiting < at ? at - waiting : 0;
  });
  const followFrom = bareTimes[0] ?? 0;
  const followTo = bareTimes.at(-1) ?? nowMs();
  results.follow = {
    lines: total,
    rate: flags.rate,
    bareLinesPerSecond: bareTimes.length / ((followTo - followFrom) / 1000),
    behindP50Ms: percentile(behind, 50),
    behindP99Ms: percentile(behind, 99),
    behindMaxMs: Math.max(...behind),
    longestTaskMs: await longestTask(page, followFrom, followTo),
  };

  // 3. The fleet with `hosts` hosts, seeded straight into the registry.
  await api(base, 'POST', '/v1/projects', { id: 'bench' });
  const client = new Redis(redis.url);
  const registry = new Registry(client, 'outpost:');
  for (let i = 1; i <= flags.hosts; i++) {
    const n = String(i).padStart(5, '0');
    await registry.createHost({
      id: `host-${n}`,
      project: 'bench',
      address: `198.51.100.${i % 250}`,
      network: `net-${i % 20}`,
    });
  }
  await client.quit();
  const fetchFrom = nowMs();
  const listed = await fetch(`${base}/v1/hosts`, { headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
  const hostCount = ((await listed.json()) as unknown[]).length;
  const fetchMs = nowMs() - fetchFrom;
  await page.goto(`${base}/fleet`, { waitUntil: 'commit' });
  const fleetShownMs = await (
    await page.waitForFunction(
      `(() => {
        const shown = document.querySelector('[data-shown]');
        return shown && shown.textContent === '${hostCount}' && document.querySelector('tr[data-host]') ? performance.now() : false;
      })()`,
      undefined,
      { polling: 'raf', timeout: 60_000 },
    )
  ).jsonValue();
  const typeFrom = nowMs();
  const keystrokes = await page.evaluate<number[]>(`(async () => {
    const input = document.querySelector('.filters input[type=search]');
    const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    const times = [];
    for (const text of ['h', 'ho', 'hos', 'host', 'host-', 'host-0', 'host-04', 'host-049', 'host-0499', 'host-04999', 'host-0499', 'host-049']) {
      const t0 = performance.now();
      set.call(input, text);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await ${PAINTED};
      times.push(performance.now() - t0);
    }
    return times;
  })()`);
  results.fleet = {
    hosts: hostCount,
    fetchMs,
    shownMs: fleetShownMs,
    keystrokeP50Ms: percentile(keystrokes, 50),
    keystrokeMaxMs: Math.max(...keystrokes),
    longestTaskMs: await longestTask(page, typeFrom, nowMs()),
  };
  results.bundle = await bundleSizes();

  const b = results.bigLog as {
    bareReadMs: number;
    lastScreenMs: number;
    allLinesMs: number;
    searches: number[];
    scrollLongestTaskMs: number;
  };
  const f = results.follow as {
    bareLinesPerSecond: number;
    behindP99Ms: number;
    behindMaxMs: number;
    longestTaskMs: number;
  };
  const fl = results.fleet as {
    fetchMs: number;
    shownMs: number;
    keystrokeP50Ms: number;
    keystrokeMaxMs: number;
    longestTaskMs: number;
  };
  const bundle = results.bundle as Record<string, number>;
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  printTable('console in headless Chromium, against the bare client in the same run', [
    {
      figure: `${flags.lines} lines: last screen after navigation`,
      console: `${round(b.lastScreenMs)} ms`,
      floor: `${round(b.bareReadMs)} ms (bare SSE reads all)`,
      ratio: round(b.lastScreenMs / b.bareReadMs),
      goal: '<= 1000 ms',
      verdict: verdict(b.lastScreenMs <= 1000),
    },
    {
      figure: `${flags.lines} lines: every line in the page`,
      console: `${round(b.allLinesMs)} ms`,
      floor: `${round(b.bareReadMs)} ms (bare SSE reads all)`,
      ratio: round(b.allLinesMs / b.bareReadMs),
      goal: '',
      verdict: '',
    },
    {
      figure: `search over all lines (max of ${b.searches.length})`,
      console: `${round(Math.max(...b.searches))} ms`,
      floor: '',
      ratio: '',
      goal: '<= 200 ms',
      verdict: verdict(Math.max(...b.searches) <= 200),
    },
    {
      figure: 'scrolling: longest main-thread task',
      console: `${round(b.scrollLongestTaskMs)} ms`,
      floor: '',
      ratio: '',
      goal: '<= 100 ms',
      verdict: verdict(b.scrollLongestTaskMs <= 100),
    },
    {
      figure: `following ${flags.rate} lines/s for ${flags.seconds} s: view behind bare client (p99 / max)`,
      console: `${round(f.behindP99Ms)} / ${round(f.behindMaxMs)} ms`,
      floor: `${round(f.bareLinesPerSecond)} lines/s at the bare client`,
      ratio: '',
      goal: '<= 1000 ms',
      verdict: verdict(f.behindMaxMs <= 1000),
    },
    {
      figure: 'following: longest main-thread task',
      console: `${round(f.longestTaskMs)} ms`,
      floor: '',
      ratio: '',
      goal: '<= 100 ms',
      verdict: verdict(f.longestTaskMs <= 100),
    },
    {
      figure: `fleet of ${flags.hosts} hosts: table shown after navigation`,
      console: `${round(fl.shownMs)} ms`,
      floor: `${round(fl.fetchMs)} ms (bare GET /v1/hosts)`,
      ratio: round(fl.shownMs / fl.fetchMs),
      goal: '<= 1000 ms',
      verdict: verdict(fl.shownMs <= 1000),
    },
    {
      figure: 'fleet: filter keystroke to paint (p50 / max)',
      console: `${round(fl.keystrokeP50Ms)} / ${round(fl.keystrokeMaxMs)} ms`,
      floor: '',
      ratio: '',
      goal: '<= 100 ms',
      verdict: verdict(fl.keystrokeMaxMs <= 100),
    },
    {
      figure: 'bundle, gzip: app code / libraries (Preact, uPlot)',
      console: `${round(bundle.appGzipKiB ?? 0)} / ${round(bundle.vendorGzipKiB ?? 0)} KiB`,
      floor: `${round(bundle.totalRawKiB ?? 0)} KiB raw`,
      ratio: '',
      goal: 'app <= 150 KiB',
      verdict: verdict((bundle.appGzipKiB ?? 0) <= 150),
    },
  ]);
  await writeResult('console', machine, { flags, ...results });
} finally {
  await browser.close();
  await service.stop();
  await redis.stop();
  await rm(varDir, { recursive: true, force: true });
}
