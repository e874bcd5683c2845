// The page in Debian's headless Chromium: no console errors, every chart drawn, the ranking
// sortable, a <script> run name shown as text. Fails (never skips) when Chromium is missing.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers.js';
import sharp from 'sharp';
import { buildReport } from '../../src/report/index.js';
import { mainSweep, tempDir, XSS_NAME } from './fixtures.js';

let browser: Browser;
let page: Page;
const problems: string[] = [];
let indexHtml: string;

before(async () => {
  const result = await buildReport({
    dbFile: mainSweep(join(tempDir(), 'h.db')),
    outDir: join(tempDir(), 'out'),
    formats: ['html', 'png'],
  });
  indexHtml = result.indexHtml!;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network: ${r.url()}`);
  });
  await page.goto(pathToFileURL(indexHtml).href, { waitUntil: 'load' });
});

after(async () => {
  await browser?.close();
});

test('the page loads with no console errors, no network and no script from the data', async () => {
  assert.deepEqual(problems, []);
  assert.equal(await page.evaluate(() => (window as unknown as { xssRan?: boolean }).xssRan ?? false), false);
});

test('every chart canvas is drawn', async () => {
  const canvases = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#charts canvas')).map((c) => {
      const canvas = c as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      return { label: canvas.getAttribute('aria-label'), width: canvas.width, painted };
    }),
  );
  // overfitting (4 panels), gap, scale, scale by batch (2), by lr (2), retrieval (2), lr
  assert.equal(canvases.length, 4 + 1 + 1 + 2 + 2 + 2 + 1);
  for (const c of canvases) {
    assert.ok(c.width > 100, `${c.label}: width ${c.width}`);
    assert.ok(c.painted > 2000, `${c.label}: only ${c.painted} painted pixels`);
  }
});

test('the ranking table sorts on click', async () => {
  const names = () => page.$$eval('#ranking tbody tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent));
  assert.deepEqual(await names(), ['overfit', 'rebound', 'clean', XSS_NAME]);
  await page.click('#ranking th:nth-child(2)');
  assert.deepEqual(
    await names(),
    ['clean', 'overfit', 'rebound', XSS_NAME].sort((a, b) => a.localeCompare(b)),
  );
  await page.click('#ranking th:nth-child(2)');
  assert.deepEqual(
    await names(),
    ['clean', 'overfit', 'rebound', XSS_NAME].sort((a, b) => b.localeCompare(a)),
  );
  assert.equal(await page.getAttribute('#ranking th:nth-child(2)', 'aria-sort'), 'descending');
});

test('a run named <script> is shown as text, and its error text is escaped', async () => {
  const summaries = await page.$$eval('details.run summary', (s) => s.map((x) => x.textContent ?? ''));
  assert.ok(summaries.some((t) => t.includes(XSS_NAME)));
  assert.equal(await page.locator('body script').count(), 3); // data, Chart.js, page script: no injected one
  assert.equal(await page.locator('img').count(), 0);
  const html = readFileSync(indexHtml, 'utf8');
  assert.ok(!html.includes(XSS_NAME));
  assert.ok(!html.includes('<img src=x'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
});

test('the summary tells the observations, names the best-step checkpoint, and shows constant parameters once', async () => {
  const obs = await page.$$eval('.observations', (els) =>
    els.map((el) => ({
      name: el.getAttribute('data-config'),
      items: Array.from(el.querySelectorAll('li')).map((li) => li.textContent ?? ''),
    })),
  );
  assert.deepEqual(
    obs.map((o) => o.name),
    ['overfit', 'rebound'],
  );
  assert.match(obs[0]!.items[0]!, /^Overfitting: validation loss lowest at step 1000/);
  assert.match(obs[0]!.items[2]!, /recall alone would have picked the overfitted weights/);
  assert.match(obs[1]!.items[1]!, /back at 97 or more by step 1370/);
  assert.match(
    (await page.textContent('#observations + p')) ?? '',
    /recall alone would have picked the overfitting configuration/,
  );
  assert.match(
    (await page.textContent('.best .checkpoint')) ?? '',
    /checkpoint at the best validation-loss step \(overfit: step 1,?000; the run's best checkpoint\)/,
  );
  assert.equal((await page.textContent('p.constant'))?.trim(), 'Same in every configuration: warmup=100');
  const params = await page.$$eval('#ranking tbody tr td:nth-child(3)', (cells) =>
    cells.map((c) => c.textContent ?? ''),
  );
  assert.ok(
    params.every((p) => !p.includes('warmup')),
    params.join(' | '),
  );
  assert.ok(
    params.some((p) => p.includes('batch_size=256 lr=0.000005')),
    params.join(' | '),
  );
});

test('the x-axis switch redraws every chart per sample seen, and back', async () => {
  const titles = () => page.$$eval('#charts section.chart h3', (hs) => hs.map((h) => h.textContent ?? ''));
  const count = () => page.locator('#charts canvas').count();
  const before = await count();
  assert.ok((await titles()).includes('Generalisation gap over steps'));
  assert.equal(await page.locator('input[name="x-axis"][value="epoch"]').count(), 0); // no steps-per-epoch in this sweep
  await page.check('input[name="x-axis"][value="samples"]');
  assert.ok((await titles()).includes('Generalisation gap over samples seen'));
  assert.ok((await titles()).some((t) => t === 'Overfitting: train vs validation loss'));
  assert.equal(await count(), before);
  await page.check('input[name="x-axis"][value="step"]');
  assert.ok((await titles()).includes('Generalisation gap over steps'));
  assert.equal(await count(), before);
  assert.deepEqual(problems, []);
});

test('screenshot for a human check: the whole page renders, tall and not blank', async () => {
  const file = join(tempDir(), 'page.png');
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(existsSync(file));
  const image = sharp(file);
  const { width, height } = await image.metadata();
  // A full page with its summary, ranking table and chart canvases is far taller than a screen.
  assert.ok((width ?? 0) >= 800 && (height ?? 0) > 1500, `${width}x${height}`);
  const { channels } = await image.stats();
  assert.ok(
    channels.slice(0, 3).every((c) => c.stdev > 10),
    'the page has content, not one flat colour',
  );
  process.stdout.write(`# screenshot: ${file}\n`);
});
