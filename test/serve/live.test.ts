// `sweep serve` in Debian's headless Chromium while a real sweep runs (the fixture trainer as
// child processes, a real SQLite file): a run goes queued -> running -> completed on the page
// and its chart grows without a reload; alerts appear for the run made to overfit and the one
// made to diverge; the parallel-coordinates brush filters the table; a <script> name is text.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { CLI, openStore, tempDir, waitFor, writeSweep, launchChromium } from '../helpers.js';

const XSS = '<script>window.xssRan=true</script>';
let browser: Browser;
let page: Page;
let server: RunningServer;
const startSweep = (cwd: string) =>
  execa(process.execPath, [CLI, 'run', 'sweep.yaml', '--quiet'], { cwd, reject: false, all: true, stdin: 'ignore' });
let sweep: ReturnType<typeof startSweep>;
let gate: string;
let dir: string;
const problems: string[] = [];
const ids = new Map<string, string>();

before(async () => {
  browser = await launchChromium();
  dir = tempDir();
  gate = join(dir, 'gate');
  // Two slots, five runs: `watch` (the last) waits in the queue while the others run, and they
  // wait for the gate file, which the first test opens once the page has shown `watch` queued.
  writeSweep(
    dir,
    `name: live
trainer: { command: [node, $TRAINER] }
base: { steps: 16, step_ms: 100, quality: 1, gate: ${JSON.stringify(gate)} }
configs:
  - { name: overfit, lr: 0.2, batch_size: 32, val_shape: overfit, overfit_at: 5 }
  - { name: diverge, lr: 0.3, batch_size: 64, diverge_at: 8 }
  - { name: ${JSON.stringify(XSS)}, lr: 0.5, batch_size: 32 }
  - { name: steady, lr: 0.001, batch_size: 64 }
  - { name: watch, lr: 0.002, batch_size: 32, steps: 30, step_ms: 300 }
resources: { gpus: none, cpu_slots: 2 }
`,
  );
  sweep = startSweep(dir);
  await waitFor(() => {
    const store = openStore(dir);
    try {
      const runs = store.listRuns(store.getSweep('live').pk);
      for (const r of runs) ids.set(r.name, r.id);
      return runs.length === 5;
    } finally {
      store.close();
    }
  }, 'the sweep to be registered');
  server = await startServer({ dbFile: join(dir, 'runs', 'sweeps.db'), port: 0, pollMs: 300 });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const origin = new URL(server.url).origin;
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`network: ${r.url()}`);
  });
  await page.goto(`${origin}/sweep/live`, { waitUntil: 'load' });
});

after(async () => {
  await browser?.close();
  await server?.close();
  sweep?.kill('SIGTERM');
  await sweep;
});

const stateOf = (id: string) => page.getAttribute(`#runs tbody tr[data-run="${id}"]`, 'data-state');
/**
 * Points of run `name` in the logit-scale chart (one line per run). The chart is brought on
 * screen first, as a user watching it would: charts far off screen are not built (sweep-charts.js).
 */
const scalePoints = async (name: string) => {
  await page.locator('#charts section[data-chart="scale"]').scrollIntoViewIfNeeded();
  return page.evaluate((n) => {
    const canvas = document.querySelector('section[data-chart="scale"] canvas');
    const chart =
      canvas &&
      (
        window as unknown as {
          Chart: { getChart(c: Element): { data: { datasets: { label: string; data: unknown[] }[] } } | undefined };
        }
      ).Chart.getChart(canvas);
    const dataset = chart?.data.datasets.find((d) => d.label === n);
    return dataset ? dataset.data.length : 0;
  }, name);
};

test(
  'a run goes queued -> running -> completed, and its chart grows while it runs, without a reload',
  { timeout: 120_000 },
  async () => {
    const watch = ids.get('watch')!;
    await page.waitForSelector(`#runs tbody tr[data-run="${watch}"]`);
    const seen = [await stateOf(watch)];
    assert.equal(seen[0], 'queued', 'the last run waits for a slot when the page opens');
    writeFileSync(gate, '');
    await page.waitForSelector(`#runs tbody tr[data-run="${watch}"][data-state="running"]`, { timeout: 60_000 });
    seen.push('running');
    await page.waitForFunction(() => true);
    let first = 0;
    await waitForAsync(async () => (first = await scalePoints('watch')) > 0, 'a first point of the watched run');
    await waitForAsync(
      async () => (await scalePoints('watch')) > first && (await stateOf(watch)) === 'running',
      'a new point while it runs',
    );
    await page.waitForSelector(`#runs tbody tr[data-run="${watch}"][data-state="completed"]`, { timeout: 60_000 });
    seen.push('completed');
    assert.deepEqual(seen, ['queued', 'running', 'completed']);
    // The table's state and the chart's points arrive by separate updates: wait for the points,
    // then check that a later poll added none twice.
    await waitForAsync(async () => (await scalePoints('watch')) >= 30, 'all 30 points of the watched run');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await scalePoints('watch'), 30, 'every logged point arrived, none twice');
    const progress = await page.textContent(`#runs tbody tr[data-run="${watch}"] td.progress`);
    assert.match(progress ?? '', /30 \/ 30/);
  },
);

test('alerts appear for the run made to overfit and the one made to diverge', { timeout: 60_000 }, async () => {
  await page.waitForSelector(`#alerts li[data-kind="overfit"][data-run="${ids.get('overfit')}"]`, { timeout: 30_000 });
  await page.waitForSelector(`#alerts li[data-kind="diverged"][data-run="${ids.get('diverge')}"]`, { timeout: 30_000 });
  const diverged = await page.textContent(`#alerts li[data-kind="diverged"]`);
  assert.match(diverged ?? '', /diverged at step 8: train\/loss is NaN/);
  // The steady runs raise none.
  assert.equal(await page.locator(`#alerts li[data-run="${ids.get('steady')}"]`).count(), 0);
});

test('a <script> run name is shown as text and never runs', async () => {
  const name = await page.textContent(`#runs tbody tr[data-run="${ids.get(XSS)}"] td.name a`);
  assert.equal(name, XSS);
  assert.equal(await page.evaluate(() => (window as unknown as { xssRan?: boolean }).xssRan ?? false), false);
  assert.equal(
    await page.locator('body script').count(),
    5,
    'Chart.js, specs, pcoords, common, sweep: nothing injected',
  );
});

test('brushing the lr axis of the parallel coordinates filters the table', { timeout: 30_000 }, async () => {
  await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr[data-run]').length === 5);
  await page.locator('#pcoords').scrollIntoViewIfNeeded();
  const box = (await page.locator('#pcoords').boundingBox())!;
  const axes = JSON.parse((await page.getAttribute('#pcoords', 'data-axes'))!) as { name: string; x: number }[];
  const top = Number(await page.getAttribute('#pcoords', 'data-top'));
  const bottom = Number(await page.getAttribute('#pcoords', 'data-bottom'));
  const lr = axes.find((a) => a.name === 'lr')!;
  assert.ok(lr, `axes: ${axes.map((a) => a.name).join(', ')}`);
  // lr spans 0.001..0.5 on a log axis: its upper half holds 0.2, 0.3 and 0.5.
  await page.mouse.move(box.x + lr.x, box.y + top - 2);
  await page.mouse.down();
  await page.mouse.move(box.x + lr.x, box.y + (top + bottom) / 2, { steps: 5 });
  await page.mouse.up();
  const names = await page.$$eval('#runs tbody tr[data-run] td.name a', (as) => as.map((a) => a.textContent).sort());
  assert.deepEqual(names, ['diverge', 'overfit', XSS].sort());
  // The charts follow the brush: the scale chart draws only the kept runs.
  await waitForAsync(
    async () => (await scalePoints('watch')) === 0 && (await scalePoints('overfit')) > 0,
    'charts filtered by the brush',
  );
  await page.click('#clear-brush');
  assert.equal(await page.locator('#runs tbody tr[data-run]').count(), 5);
});

test(
  'the page made no request elsewhere and logged no error; a screenshot has rendered content',
  { timeout: 30_000 },
  async () => {
    // Every chart is built once it nears the screen: scroll through them, as a reader would.
    for (const section of await page.locator('#charts section:not([hidden])').all()) {
      await section.scrollIntoViewIfNeeded();
      await page.waitForTimeout(100);
    }
    await page.waitForTimeout(1200); // let the charts redraw after the brush was cleared
    assert.deepEqual(problems, []);
    const file = join(dir, 'sweep-page.png');
    await page.screenshot({ path: file, fullPage: true });
    const image = sharp(file);
    const { width, height } = await image.metadata();
    assert.ok((width ?? 0) >= 1000 && (height ?? 0) > 1200, `${width}x${height}`);
    const { channels } = await image.stats();
    assert.ok(
      channels.slice(0, 3).every((c) => c.stdev > 10),
      'the page has content, not one flat colour',
    );
    const painted = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#charts canvas')).map((c) => {
        const canvas = c as HTMLCanvasElement;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) n++;
        return n;
      }),
    );
    assert.ok(painted.length >= 4, `${painted.length} chart canvases`);
    for (const n of painted) assert.ok(n > 2000, `a chart with only ${n} painted pixels`);
    process.stdout.write(`# screenshot: ${file}\n`);
  },
);

test(
  'compare: ticked runs side by side, rows that differ marked, charts of those runs only',
  { timeout: 30_000 },
  async () => {
    await page.check(`#runs tbody tr[data-run="${ids.get('overfit')}"] input[type=checkbox]`);
    await page.check(`#runs tbody tr[data-run="${ids.get('steady')}"] input[type=checkbox]`);
    await page.click('#compare-btn');
    const heads = await page.$$eval('#compare-table thead th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(heads, ['', 'overfit', 'steady']);
    const lrRow = await page.$$eval('#compare-table tbody tr', (trs) =>
      (trs as HTMLTableRowElement[])
        .filter((t) => t.cells[0]!.textContent === 'lr')
        .map((t) => ({ diff: t.className, cells: Array.from(t.cells).map((c) => c.textContent) })),
    );
    assert.deepEqual(lrRow, [{ diff: 'diff', cells: ['lr', '0.2', '0.001'] }]);
    await page.locator('#compare-charts section[data-chart="scale"]').scrollIntoViewIfNeeded();
    await page.waitForSelector('#compare-charts section[data-chart="scale"] canvas');
    const labels = await page.evaluate(() => {
      const canvas = document.querySelector('#compare-charts section[data-chart="scale"] canvas')!;
      const chart = (
        window as unknown as { Chart: { getChart(c: Element): { data: { datasets: { label: string }[] } } } }
      ).Chart.getChart(canvas);
      return chart.data.datasets.map((d) => d.label).filter((l) => !l.startsWith('clamp'));
    });
    assert.deepEqual(labels.sort(), ['overfit', 'steady']);
    await page.click('#compare-btn');
  },
);

test('heatmaps of the objective and the final gap over lr x batch size', async () => {
  await page.waitForSelector('#heatmaps table.heat[data-measure="final gap"]');
  assert.equal(await page.locator('#heatmaps table.heat').count(), 2);
  // steady: lr 0.001, batch 64, its objective (best val/loss) in its cell; no run at lr 0.001 x 32.
  const objective = await page.textContent(`#runs tbody tr[data-run="${ids.get('steady')}"] td:nth-child(12)`);
  assert.equal(
    await page.textContent('#heatmaps table.heat[data-measure="val/loss"] td[data-lr="0.001"][data-bs="64"]'),
    objective,
  );
  assert.equal(
    await page.textContent('#heatmaps table.heat[data-measure="val/loss"] td[data-lr="0.001"][data-bs="32"]'),
    'n/a',
  );
});

test('the sweeps list shows the sweep with its counts', async () => {
  const list = await browser.newPage();
  await list.goto(new URL(server.url).origin + '/');
  await list.waitForSelector('#sweeps tr[data-sweep="live"] td[data-state="completed"]:not(:empty)');
  assert.equal(await list.textContent('#sweeps tr[data-sweep="live"] td[data-state="completed"]'), '5');
  await list.close();
});

test(
  'a run page: alerts, parameters, history, one chart per key, zoom, output tails',
  { timeout: 30_000 },
  async () => {
    const run = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    run.on('pageerror', (e) => errors.push(e.message));
    run.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await run.goto(`${new URL(server.url).origin}/sweep/live/run/${ids.get('overfit')}`);
    await run.waitForSelector('#alerts li[data-kind="overfit"]');
    assert.equal(await run.textContent('#run-name'), 'overfit');
    const params = await run.$$eval('#params tr', (trs) =>
      (trs as HTMLTableRowElement[]).map((t) =>
        Array.from(t.cells)
          .map((c) => c.textContent)
          .join('='),
      ),
    );
    assert.ok(params.includes('lr=0.2'), params.join(', '));
    const history = await run.$$eval('#history tr td:nth-child(3)', (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(history, ['queued', 'running', 'completed']);
    await run.waitForSelector('section[data-key="val/loss"] canvas[data-points="17"]');
    assert.deepEqual(await run.$$eval('#metric-charts section', (ss) => ss.map((s) => s.getAttribute('data-key'))), [
      'logit_scale',
      'lr',
      'train/loss',
      'val/i2t_R@1',
      'val/loss',
    ]);
    // Drag across the train loss chart: the range is fetched again in full and the axis narrows.
    const canvas = run.locator('section[data-key="train/loss"] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    await run.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await run.mouse.down();
    await run.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 4 });
    await run.mouse.up();
    await run.waitForFunction(
      () => Number(document.querySelector('section[data-key="train/loss"] canvas')!.getAttribute('data-points')) < 16,
    );
    await run.waitForFunction(() =>
      Array.from(document.querySelectorAll('pre[data-file]')).every((p) => p.textContent !== 'loading…'),
    );
    assert.equal(await run.textContent('pre[data-file="stdout.log"]'), '(empty)', 'the fixture trainer prints nothing');
    assert.deepEqual(errors, []);
    await run.close();
  },
);

async function waitForAsync(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
