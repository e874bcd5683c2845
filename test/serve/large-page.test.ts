// The sweep page on 200 runs, in Debian's headless Chromium, on a real SQLite file written by the
// store: the runs table holds only the rows near its view (windowed), scrolling brings later rows
// in, sorting and filtering cover every run, a live change to a run off screen shows once it is
// scrolled to; a chart far below is built and drawn only when scrolled into view (first: the
// filters below shorten the table, which brings the charts up).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { SqliteStore } from '../../src/store/index.js';
import { ingestSteps, launchChromium, tempDir } from '../helpers.js';

const RUNS = 200;
let browser: Browser;
let page: Page;
let server: RunningServer;
let store: SqliteStore;
const pks = new Map<string, number>();
const problems: string[] = [];
let streams = 0;

const LRS = [1e-5, 2e-5, 1e-4, 1e-3, 2e-3];
const name = (i: number) => `run${String(i).padStart(3, '0')}`;

/** Runs made to diverge (NaN loss at step 19): more alerts than the list shows at first. */
const DIVERGING = 150;

/** Steps [from, to) of a run: train loss, logit scale, lr every step, val loss every 5. */
function write(runPk: number, from: number, to: number, total: number, nanAt = -1): void {
  ingestSteps(store, runPk, { from, to, total }, (s) => [
    { key: 'train/loss', value: s === nanAt ? NaN : 3 / (1 + s / 10) },
    { key: 'logit_scale', value: 20 + s },
    { key: 'lr', value: 1e-4 },
    ...(s % 5 === 4 ? [{ key: 'val/loss', value: 2 / (1 + s / 20) }] : []),
  ]);
}

before(async () => {
  const dir = tempDir();
  const db = join(dir, 'sweeps.db');
  store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 'wide', specPath: null, spec: {}, specHash: 'x', runsDir: dir });
  store.registerRuns(
    sweep.pk,
    Array.from({ length: RUNS }, (_, i) => ({
      id: `r${i}`,
      name: name(i),
      // 20 configurations: the overfitting chart gets its 12 panels, a page's worth.
      params: { lr: LRS[i % 5]!, batch_size: [32, 64, 128, 256][Math.floor(i / 5) % 4]! },
      ordinal: i,
      runDir: join(dir, `r${i}`),
    })),
  );
  for (const run of store.listRuns(sweep.pk)) {
    pks.set(run.id, run.pk);
    store.claimRun(run.pk, 'test', `cpu${run.ordinal}`, null);
    write(run.pk, 0, 20, 40, run.ordinal < DIVERGING ? 19 : -1);
  }
  server = await startServer({ dbFile: db, port: 0, pollMs: 200 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/sweeps/wide/events') streams++;
  });
  await page.goto(`${new URL(server.url).origin}/sweep/wide`);
  await page.waitForSelector(`#runs[data-rows="${RUNS}"] tbody tr[data-run="r0"]`);
});

after(async () => {
  await browser?.close();
  await server?.close();
  store?.close();
});

const rowIds = () => page.$$eval('#runs tbody tr[data-run]', (trs) => trs.map((t) => t.getAttribute('data-run')!));
const scrollTable = (to: number | 'end') =>
  page.evaluate((y) => {
    const box = document.getElementById('runs-box')!;
    box.scrollTop = y === 'end' ? box.scrollHeight : y;
  }, to);
/** Scrolls the table so that the run at `index` of the current order is in the middle of its box. */
const scrollToIndex = (index: number) =>
  page.evaluate(
    ({ i, n }) => {
      const box = document.getElementById('runs-box')!;
      const head = document.querySelector('#runs thead')!.getBoundingClientRect().height;
      box.scrollTop = head + ((box.scrollHeight - head) * i) / n - box.clientHeight / 2;
    },
    { i: index, n: RUNS },
  );

test('a chart far below the fold is built and drawn only once scrolled into view', { timeout: 30_000 }, async () => {
  const lr = page.locator('#charts section[data-chart="lr"]');
  const below = await page.evaluate(
    () => document.querySelector('#charts section[data-chart="lr"]')!.getBoundingClientRect().top - window.innerHeight,
  );
  assert.ok(below > 1000, `the learning-rate chart starts ${below} px below the screen (of 1000 px)`);
  assert.equal(await lr.locator('canvas').count(), 0, 'not drawn while far off screen');
  assert.equal(await lr.getAttribute('class'), 'chart unbuilt', 'not even built');
  // The first chart was drawn at load.
  assert.ok(Number(await page.getAttribute('#charts canvas >> nth=0', 'data-points')) > 0);
  await lr.scrollIntoViewIfNeeded();
  await page.waitForSelector('#charts section[data-chart="lr"] canvas[data-points]');
  const points = Number(await page.getAttribute('#charts section[data-chart="lr"] canvas', 'data-points'));
  assert.ok(points > RUNS, `${points} points in the learning-rate chart`);
  // Its step axis is labelled by the page's own number formatter (no Intl; the learning rates
  // have the report's own): each label reads back as its tick's value.
  const ticks = await page.evaluate(() => {
    const canvas = document.querySelector('#charts section[data-chart="lr"] canvas')!;
    const chart = (
      window as unknown as {
        Chart: {
          getChart(c: Element): {
            scales: Record<
              string,
              { ticks: { value: number; label: string }[]; options: { ticks: { callback: { name: string } } } }
            >;
          };
        };
      }
    ).Chart.getChart(canvas);
    const x = chart.scales['x']!;
    if (x.options.ticks.callback.name !== 'plainTick')
      throw new Error(`tick callback ${x.options.ticks.callback.name}`);
    return x.ticks.map((t) => [t.value, t.label] as [number, string]);
  });
  assert.ok(ticks.length >= 4, JSON.stringify(ticks));
  for (const [value, label] of ticks) {
    const read = Number(label.replace(/,/g, ''));
    assert.ok(Math.abs(read - value) <= Math.abs(value) * 0.01 + 1e-12, `tick ${value} labelled ${label}`);
  }
});

test('the table holds only the rows near its view; scrolling brings the later ones in', async () => {
  const ids = await rowIds();
  assert.ok(ids.length > 10 && ids.length < RUNS, `${ids.length} rows in the DOM at load`);
  assert.equal(ids[0], 'r0');
  assert.ok(!ids.includes(`r${RUNS - 1}`));
  assert.match((await page.textContent('#counts')) ?? '', new RegExp(`showing ${RUNS} of ${RUNS}`));
  await scrollTable('end');
  await page.waitForSelector(`#runs tbody tr[data-run="r${RUNS - 1}"]`);
  const later = await rowIds();
  assert.ok(!later.includes('r0'), 'rows scrolled far away leave the DOM');
  assert.ok(later.length < RUNS);
  // The last row shows its cells like the first did.
  assert.equal(await page.textContent(`#runs tbody tr[data-run="r${RUNS - 1}"] td.name a`), name(RUNS - 1));
  assert.match((await page.textContent(`#runs tbody tr[data-run="r${RUNS - 1}"] td.progress`)) ?? '', /19 \/ 40/);
  await scrollTable(0);
  await page.waitForSelector('#runs tbody tr[data-run="r0"]');
});

test('a live change to a run off screen shows once the table is scrolled to it', { timeout: 60_000 }, async () => {
  const target = 'r150';
  assert.ok(!(await rowIds()).includes(target));
  write(pks.get(target)!, 20, 40, 40);
  store.finishRun(pks.get(target)!, 'test', { status: 'completed' });
  // The page has the change (its counts), while the run's row is still out of the DOM.
  await page.waitForFunction(() => /1 completed/.test(document.getElementById('counts')!.textContent ?? ''), null, {
    timeout: 30_000,
  });
  assert.ok(!(await rowIds()).includes(target));
  await scrollToIndex(150);
  await page.waitForSelector(`#runs tbody tr[data-run="${target}"][data-state="completed"]`);
  assert.match((await page.textContent(`#runs tbody tr[data-run="${target}"] td.progress`)) ?? '', /39 \/ 40/);
  await scrollTable(0);
});

test('sorting and filtering act on every run, not only the rows in the DOM', { timeout: 30_000 }, async () => {
  // Sort by name, descending (second click): the last run comes first.
  await page.click('#runs th[data-col="name"]');
  await page.click('#runs th[data-col="name"]');
  await scrollTable(0);
  await page.waitForFunction(
    (last) => document.querySelector('#runs tbody tr[data-run]')?.getAttribute('data-run') === last,
    `r${RUNS - 1}`,
  );
  // A run far down the unsorted order is found by the filter.
  await page.fill('#filter-param', name(123));
  await page.waitForSelector('#runs[data-rows="1"]');
  assert.deepEqual(await rowIds(), ['r123']);
  await page.fill('#filter-param', 'lr=0.001');
  const withLr = Array.from({ length: RUNS }, (_, i) => i).filter((i) => LRS[i % 5] === 0.001).length;
  await page.waitForSelector(`#runs[data-rows="${withLr}"]`);
  await page.fill('#filter-param', '');
  await page.selectOption('#filter-state', 'completed');
  await page.waitForSelector('#runs[data-rows="1"]');
  assert.deepEqual(await rowIds(), ['r150']);
  await page.selectOption('#filter-state', '');
  await page.waitForSelector(`#runs[data-rows="${RUNS}"]`);
  await page.click('#runs th[data-col="name"]'); // back to ascending
});

test('the alerts list holds the newest 100 until asked for the older ones', { timeout: 60_000 }, async () => {
  await page.waitForSelector('#alerts-older', { timeout: 45_000 });
  // Every run's diagnosis done: 100 listed, the other 50 behind the button.
  await page.waitForFunction(
    (older) =>
      document.querySelectorAll('#alerts li[data-kind="diverged"]').length === 100 &&
      document.getElementById('alerts-older')!.textContent === `show ${older} older alerts`,
    DIVERGING - 100,
    { timeout: 45_000 },
  );
  await page.click('#alerts-older');
  await page.waitForFunction(
    (n) => document.querySelectorAll('#alerts li[data-kind="diverged"]').length === n,
    DIVERGING,
  );
  assert.equal(await page.locator('#alerts-older').count(), 0);
  const runs = await page.$$eval('#alerts li[data-kind="diverged"]', (lis) =>
    lis.map((li) => li.getAttribute('data-run')),
  );
  assert.equal(new Set(runs).size, DIVERGING, 'one alert per diverged run');
});

test('the page logged no error and opened one event stream (its first script opens it)', () => {
  assert.deepEqual(problems, []);
  assert.equal(streams, 1);
});
