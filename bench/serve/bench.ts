// Benchmark of `sweep serve` (issue 15). Prints figures; asserts nothing about time.
//   node dist/bench/serve/bench.js [--runs 200] [--steps 20000] [--live-runs 100] [--rate 10] [--seconds 60] [--db FILE]
//     [--with-omnibox-popup]
// 1. A finished sweep of runs x steps x 6 metrics: time until the sweep page is usable in
//    Chromium (first charts drawn), with the server warmed (it loads the latest sweep on start)
//    and, for reference, how long that warm-up took.
// 2. A running sweep of live-runs runs each logging `rate` lines a second (this process is the
//    one writer, through the store's ingest, committing every 100 ms): the latency from commit
//    to the page receiving the point (server-sent event) and to the point being in the chart,
//    p50/p95, and the server's RSS over time.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/helpers.js';
import { liveSweep, writeBigSweep } from './db.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const RUNS = Number(arg('runs', '200'));
const STEPS = Number(arg('steps', '20000'));
const LIVE_RUNS = Number(arg('live-runs', '100'));
const RATE = Number(arg('rate', '10'));
const SECONDS = Number(arg('seconds', '60'));
const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-serve-'));
const bigDb = arg('db', join(dir, 'big.db'));
const CHILD = fileURLToPath(new URL('./server-child.js', import.meta.url));
/**
 * Chromium's omnibox dropdown, a WebUI page (chrome://omnibox-popup.top-chrome/ and its AI-mode
 * twin) that every new window loads in a renderer of its own as it opens. Each load below opens a
 * fresh context, so a new window, and navigates it at once: that page then loaded beside the
 * sweep page, about 2 CPU s of Chromium per window on this 2-core machine (docs/serve.md), work
 * a user's browser did when its window opened, not when they open the sweep page. `--with-omnibox-popup` keeps it (Chromium's default), for comparison.
 */
const OMNIBOX_POPUP_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];
const WITH_OMNIBOX_POPUP = process.argv.includes('--with-omnibox-popup');

const out = (line: string) => process.stdout.write(`${line}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
/** CPU seconds a process has used (user + system): under a shared, loaded machine the fairer figure. */
const cpuS = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
/** CPU seconds of Chromium: every live descendant of this process except `exclude` (the server). */
const browserCpuS = (exclude: number) => {
  const parentOf = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parentOf.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  for (const [pid, seconds] of cpu) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== process.pid && p !== exclude) p = parentOf.get(p);
    if (p === process.pid && pid !== process.pid) total += seconds;
  }
  return total;
};
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function startChild(db: string): Promise<{
  child: ChildProcess;
  url: string;
  listening: number;
  warmed: Promise<number>;
  diagnosed: Promise<number>;
}> {
  const child = spawn(process.execPath, [CHILD, db], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  const first = JSON.parse((await it.next()).value as string) as { url: string; listening_ms: number };
  const warmed = it.next().then((r) => (JSON.parse(r.value as string) as { warmed_ms: number }).warmed_ms);
  const diagnosed = warmed
    .then(() => it.next())
    .then((r) => (JSON.parse(r.value as string) as { diagnosed_ms: number }).diagnosed_ms);
  diagnosed.catch(() => undefined);
  return { child, url: first.url, listening: first.listening_ms, warmed, diagnosed };
}

async function stop(child: ChildProcess): Promise<void> {
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/**
 * Opens the sweep page; ms until the table holds every run (`data-rows`, the runs that pass the
 * filters) with its first screen of rows in the DOM (the table is windowed: rows far below are
 * added as it scrolls), and the first chart canvas is drawn.
 */
async function pageUsable(
  browser: Browser,
  url: string,
  rows: number,
  server: number,
): Promise<{ ms: number; cpu: number; uiPages: number }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const cpuBefore = browserCpuS(server);
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    (n) =>
      document.querySelector('#runs')?.getAttribute('data-rows') === String(n) &&
      document.querySelectorAll('#runs tbody tr[data-run]').length >= Math.min(n, 10) &&
      Number(document.querySelector('#charts canvas')?.getAttribute('data-points') ?? 0) > 0,
    rows,
    { timeout: 120_000, polling: 20 },
  );
  const ms = performance.now() - started;
  const cpu = browserCpuS(server) - cpuBefore;
  // Chromium's own WebUI pages (the omnibox dropdown) open beside it, after the figures are taken.
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { type: string }[] };
  await cdp.detach();
  await page.close();
  return { ms, cpu, uiPages: targetInfos.filter((t) => t.type === 'browser_ui').length };
}

/** Pids of the live descendants of this process. */
function descendants(): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      parentOf.set(Number(name), Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return [...parentOf.keys()].filter((pid) => {
    let p: number | undefined = parentOf.get(pid);
    while (p !== undefined && p > 1 && p !== process.pid) p = parentOf.get(p);
    return p === process.pid;
  });
}

/**
 * Playwright's own --disable-features list, read off the command line of a browser it launched:
 * Chromium keeps only the last --disable-features it is given, so ours must carry Playwright's
 * too (it turns off Chromium's calls to Google's services, paint holding, and more).
 */
async function playwrightDisabledFeatures(): Promise<string[]> {
  const probe = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  try {
    for (const pid of descendants()) {
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      if (argv.some((a) => a.startsWith('--type='))) continue; // a child of the browser process
      const flag = argv.find((a) => a.startsWith('--disable-features='));
      if (flag) return flag.slice('--disable-features='.length).split(',').filter(Boolean);
    }
    throw new Error('no Chromium browser process with --disable-features found under this process');
  } finally {
    await probe.close();
  }
}

const browserArgs = WITH_OMNIBOX_POPUP
  ? [...CHROMIUM_ARGS]
  : [
      ...CHROMIUM_ARGS,
      `--disable-features=${[...(await playwrightDisabledFeatures()), ...OMNIBOX_POPUP_FEATURES].join(',')}`,
    ];
out(
  WITH_OMNIBOX_POPUP
    ? "Chromium: Playwright's launch; each new window loads the omnibox dropdown's WebUI beside the page"
    : "Chromium: Playwright's launch without the omnibox dropdown's WebUI (--with-omnibox-popup keeps it)",
);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: browserArgs });
try {
  // ---- 1. page load on a big finished sweep --------------------------------------------------
  if (!existsSync(bigDb)) {
    const t = performance.now();
    writeBigSweep(bigDb, RUNS, STEPS, dir);
    out(
      `wrote ${RUNS} runs x ${STEPS} steps x 6 metrics in ${((performance.now() - t) / 1000).toFixed(1)} s (${(statSync(bigDb).size / 1e6).toFixed(0)} MB)`,
    );
  }
  {
    const server = await startChild(bigDb);
    const warmed = await server.warmed;
    out(
      `server: listening after ${server.listening.toFixed(0)} ms; latest sweep's drawn series ready (downsampled by SQLite) after ${(warmed / 1000).toFixed(2)} s (${cpuS(server.child.pid!).toFixed(1)} CPU s; load average ${load()}); RSS ${rssMb(server.child.pid!).toFixed(0)} MB`,
    );
    const origin = new URL(server.url).origin;
    const loads = [];
    const cpuBefore = cpuS(server.child.pid!);
    for (let i = 0; i < 3; i++) loads.push(await pageUsable(browser, `${origin}/sweep/big`, RUNS, server.child.pid!));
    const diagnosedBy = await Promise.race([server.diagnosed, new Promise<null>((r) => setTimeout(() => r(null), 0))]);
    out(
      `background diagnoses (full series, in the server's worker thread): ${diagnosedBy === null ? 'still running after the page loads' : `done after ${(diagnosedBy / 1000).toFixed(1)} s`}`,
    );
    out(
      `sweep page usable (${RUNS} rows, first chart drawn): ${loads.map((m) => (m.ms / 1000).toFixed(2)).join(' s, ')} s (3 loads; Chromium ${loads.map((m) => m.cpu.toFixed(2)).join(', ')} CPU s for each; Chromium WebUI pages open: ${loads.map((m) => m.uiPages).join(', ')}; server ${(cpuS(server.child.pid!) - cpuBefore).toFixed(1)} CPU s for them, with its background diagnoses; load average ${load()}); server RSS ${rssMb(server.child.pid!).toFixed(0)} MB`,
    );
    await stop(server.child);
  }

  // ---- 2. live updates ------------------------------------------------------------------------
  {
    const db = join(dir, 'live.db');
    const writer = liveSweep(db, LIVE_RUNS, dir);
    writer.tick(1);
    const server = await startChild(db);
    await server.warmed;
    const origin = new URL(server.url).origin;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${origin}/sweep/live`);
    await page.waitForFunction(
      (n) => document.querySelector('#runs')?.getAttribute('data-rows') === String(n),
      LIVE_RUNS,
      {
        timeout: 60_000,
      },
    );
    // The user watches the logit-scale chart: it is on screen (charts off screen wait, see
    // sweep-charts.js).
    await page.waitForSelector('section[data-chart="scale"]', { timeout: 60_000 });
    await page.locator('section[data-chart="scale"]').scrollIntoViewIfNeeded();
    // In the page: when each step of run l0 arrives by event, and when the chart first shows it.
    await page.evaluate(() => {
      const w = window as unknown as { arrived: Record<number, number>; drawn: Record<number, number> };
      w.arrived = {};
      w.drawn = {};
      const source = new EventSource('/api/sweeps/live/events');
      source.addEventListener('delta', (ev) => {
        const now = Date.now();
        for (const p of JSON.parse((ev as MessageEvent).data).points)
          if (p.run === 'l0' && p.key === 'logit_scale') for (const x of p.x) w.arrived[x] ??= now;
      });
      const C = (
        window as unknown as {
          Chart: {
            getChart(c: Element): { data: { datasets: { label: string; data: { x: number }[] }[] } } | undefined;
          };
        }
      ).Chart;
      // Alerts arriving above the charts push them down: the user keeps the chart in view.
      setInterval(() => {
        const section = document.querySelector('section[data-chart="scale"]');
        const box = section?.getBoundingClientRect();
        if (box && (box.bottom < 0 || box.top > window.innerHeight)) section!.scrollIntoView({ block: 'center' });
      }, 1000);
      setInterval(() => {
        const canvas = document.querySelector('section[data-chart="scale"] canvas');
        const data = canvas ? C.getChart(canvas)?.data.datasets.find((d) => d.label === 'live0')?.data : undefined;
        if (!data || data.length === 0) return;
        const last = data[data.length - 1]!.x;
        const now = Date.now();
        for (let s = last; s >= 0 && w.drawn[s] === undefined; s--) w.drawn[s] = now;
      }, 50);
    });
    const committed: Record<number, number> = {};
    const rss: string[] = [];
    const perTick = RATE / 10;
    let carry = 0;
    const t0 = Date.now();
    const serverCpu0 = cpuS(server.child.pid!);
    const browserCpu0 = browserCpuS(server.child.pid!);
    let nextRss = t0;
    while (Date.now() - t0 < SECONDS * 1000) {
      carry += perTick;
      const n = Math.floor(carry);
      carry -= n;
      if (n > 0) {
        const last = writer.tick(n);
        const at = Date.now();
        for (let s = last - n + 1; s <= last; s++) committed[s] = at;
      }
      if (Date.now() >= nextRss) {
        rss.push(`${Math.round((Date.now() - t0) / 1000)}s:${rssMb(server.child.pid!).toFixed(0)}MB`);
        nextRss += 10_000;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - ((Date.now() - t0) % 100))));
    }
    const serverCpu = cpuS(server.child.pid!) - serverCpu0;
    const browserCpu = browserCpuS(server.child.pid!) - browserCpu0;
    await new Promise((r) => setTimeout(r, 3000));
    const { arrived, drawn } = await page.evaluate(() => {
      const w = window as unknown as { arrived: Record<number, number>; drawn: Record<number, number> };
      return { arrived: w.arrived, drawn: w.drawn };
    });
    const lat = (seen: Record<number, number>) =>
      Object.entries(committed).flatMap(([s, at]) => (seen[Number(s)] !== undefined ? [seen[Number(s)]! - at] : []));
    const a = lat(arrived);
    const d = lat(drawn);
    const steps = Object.keys(committed).length;
    out(
      `live: ${LIVE_RUNS} runs x ${RATE} lines/s for ${SECONDS} s (${(LIVE_RUNS * RATE).toLocaleString()} lines/s, ${steps} steps per run; load average ${load()})`,
    );
    out(
      `  commit -> page receives the point (SSE): p50 ${pct(a, 50)} ms, p95 ${pct(a, 95)} ms, max ${Math.max(...a)} ms (${a.length}/${steps} steps seen)`,
    );
    out(
      `  commit -> point drawn in the chart:      p50 ${pct(d, 50)} ms, p95 ${pct(d, 95)} ms, max ${Math.max(...d)} ms (${d.length}/${steps} steps seen)`,
    );
    out(`  server RSS: ${rss.join(' ')} (end ${rssMb(server.child.pid!).toFixed(0)} MB)`);
    out(
      `  CPU over the ${SECONDS} s: server ${serverCpu.toFixed(1)} s (${((100 * serverCpu) / SECONDS).toFixed(0)}% of a core), Chromium ${browserCpu.toFixed(1)} s (${((100 * browserCpu) / SECONDS).toFixed(0)}%)`,
    );
    await page.close();
    writer.close();
    await stop(server.child);
  }
} finally {
  await browser.close();
}
