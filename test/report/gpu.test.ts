// The report's GPU section from a real SQLite store, rendered in Debian's headless Chromium.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { gpuSection, loadGpuReport } from '../../src/report/gpu.js';
import { openReader } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { ROOT, tempDir, launchChromium } from '../helpers.js';

const NAME = '<img src=x onerror="window.xssRan=true">';
let browser: Browser;
let page: Page;

before(async () => {
  const store = SqliteStore.open(join(tempDir(), 'g.db'));
  const sweep = store.registerSweep({ name: 'g', specPath: null, spec: {}, specHash: 'x', runsDir: '/tmp' });
  store.registerRuns(sweep.pk, [
    { id: 'a', name: NAME, params: {}, ordinal: 0, runDir: '/tmp/a' },
    { id: 'b', name: 'b', params: {}, ordinal: 1, runDir: '/tmp/b' },
  ]);
  const [a, b] = store.listRuns(sweep.pk).sort((x, y) => x.ordinal - y.ordinal);
  store.recordGpuUse(a!.pk, 12000, 80);
  store.recordGpuUse(a!.pk, 9000, 70); // a later, smaller attempt keeps the larger peak
  store.recordGpuNeed(b!.pk, 7600);
  store.addGpuSamples(
    sweep.pk,
    [0, 30, 60, 90].flatMap((t) => [
      {
        gpu: 0,
        at: 1000 + t,
        totalMiB: 80000,
        usedMiB: t === 60 ? 0 : 12000,
        sweepMiB: t === 60 ? 0 : 12000,
        util: t === 60 ? 0 : 80,
      },
      { gpu: 1, at: 1000 + t, totalMiB: 80000, usedMiB: 40000, sweepMiB: 0, util: null },
    ]),
  );
  const report = loadGpuReport(store, sweep.pk, store.listRuns(sweep.pk));
  assert.ok(report);
  assert.deepEqual(
    report.runs.map((r) => [r.peakMiB, r.utilMean, r.needMinMiB]),
    [
      [12000, 70, null],
      [null, null, 7600],
    ],
  );
  assert.equal(report.gpus.length, 2);
  const empty = SqliteStore.open(join(tempDir(), 'e.db'));
  const none = empty.registerSweep({ name: 'n', specPath: null, spec: {}, specHash: 'x', runsDir: '/tmp' });
  assert.equal(loadGpuReport(empty, none.pk, []), null, 'a sweep with nothing measured has no GPU section');
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent(`<!doctype html><html><body>${gpuSection(report)}</body></html>`, { waitUntil: 'load' });
  store.close();
  empty.close();
});

after(async () => {
  await browser?.close();
});

test('per run: peak memory and mean utilisation, the name shown as text', async () => {
  const rows = await page.$$eval('#gpu-runs tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
  );
  assert.deepEqual(rows, [
    [NAME, '—', '12,000 MiB', '70%', ''],
    ['b', '—', '—', '—', 'out of memory with 7,600 MiB'],
  ]);
  assert.equal(await page.evaluate(() => (window as unknown as { xssRan?: boolean }).xssRan ?? false), false);
});

test('per GPU: a timeline of memory and utilisation, with the idle gap at zero', async () => {
  const figures = await page.$$eval('figure.gpu-timeline', (fs) =>
    fs.map((f) => ({
      gpu: f.getAttribute('data-gpu'),
      sweep: f.querySelector('polyline.sweep')!.getAttribute('points')!.split(' ').length,
      util: f.querySelector('polyline.util')!.getAttribute('points'),
      caption: f.querySelector('figcaption')!.textContent,
    })),
  );
  assert.equal(figures.length, 2);
  assert.deepEqual(
    figures.map((f) => f.gpu),
    ['0', '1'],
  );
  assert.equal(figures[0]!.sweep, 4);
  assert.match(figures[0]!.caption!, /4 samples, the sweep's runs on it in 3/);
  // GPU 1: utilisation unknown, so no utilisation line; nothing of the sweep's on it.
  assert.equal(figures[1]!.util, '');
  // The idle sample of GPU 0 sits on the bottom edge (y = height).
  const points = await page.$eval('figure[data-gpu="0"] polyline.sweep', (p) =>
    p
      .getAttribute('points')!
      .split(' ')
      .map((xy) => xy.split(',').map(Number)),
  );
  assert.deepEqual(
    points.map(([, y]) => y),
    [90 - 90 * 0.15, 90 - 90 * 0.15, 90, 90 - 90 * 0.15],
  );
});

test('a reader of a file from before GPU use (v3, never migrated) reads no GPU use, without failing', () => {
  const file = join(tempDir(), 'v3.db');
  copyFileSync(join(ROOT, 'test/store/fixtures/v3.db'), file);
  const reader = openReader(file);
  try {
    const sweep = reader.listSweeps()[0]!;
    assert.equal(loadGpuReport(reader, sweep.pk, reader.listRuns(sweep.pk)), null);
    const measured = reader.measuredRuns();
    assert.ok(measured.length > 0 && measured.every((r) => r.status === 'completed' && r.peakMiB === null));
  } finally {
    reader.close();
  }
});

test('the v5 fixture keeps its GPU use through the reader', () => {
  const file = join(tempDir(), 'v5.db');
  copyFileSync(join(ROOT, 'test/store/fixtures/v5.db'), file);
  const reader = openReader(file);
  try {
    const sweep = reader.listSweeps()[0]!;
    const report = loadGpuReport(reader, sweep.pk, reader.listRuns(sweep.pk));
    assert.ok(report);
    assert.deepEqual(
      report.runs
        .filter((r) => r.peakMiB !== null || r.needMinMiB !== null)
        .map((r) => [r.peakMiB, r.utilMean, r.needMinMiB]),
      [
        [12000, 80.5, null],
        [null, null, 7600],
      ],
    );
    assert.equal(report.gpus[0]!.samples[0]!.sweepMiB, 12000);
  } finally {
    reader.close();
  }
});
