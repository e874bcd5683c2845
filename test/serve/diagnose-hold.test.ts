// Diagnoses give way to a page opening: on a real SQLite file, in the real worker thread, a
// diagnosis sent while a page opens is deferred (and one under way stops between two series
// reads), and done once the page is served; in Chromium, opening the sweep page holds the worker
// and every run's alert still arrives.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { resolveThresholds } from '../../src/report/options.js';
import { DiagnosisDeferred, diagnoseFromDb, type DiagnosisJob } from '../../src/serve/diagnose-run.js';
import { DEFERRED, Diagnoser } from '../../src/serve/diagnoser.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { LiveReader } from '../../src/store/live-reads.js';
import { SqliteStore } from '../../src/store/index.js';
import { ingestSteps, launchChromium, tempDir, waitFor } from '../helpers.js';

const RUNS = 8;
/** Runs whose train loss turns NaN at step 150: each gets a `diverged` alert. */
const DIVERGING = new Set([1, 4, 6]);
let db: string;
let reader: LiveReader;
const pks: number[] = [];
const diagnosers: Diagnoser[] = [];
let server: RunningServer | undefined;
let browser: Browser | undefined;

before(() => {
  const dir = tempDir();
  db = join(dir, 'sweeps.db');
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 'hold', specPath: null, spec: {}, specHash: 'x', runsDir: dir });
  store.registerRuns(
    sweep.pk,
    Array.from({ length: RUNS }, (_, i) => ({
      id: `r${i}`,
      name: `run${i}`,
      params: { lr: 10 ** -(i + 1), batch_size: 64 },
      ordinal: i,
      runDir: join(dir, `r${i}`),
    })),
  );
  for (const run of store.listRuns(sweep.pk)) {
    pks.push(run.pk);
    store.claimRun(run.pk, 'test', `cpu${run.ordinal}`, null);
    const nan = (s: number) => DIVERGING.has(run.ordinal) && s >= 150;
    ingestSteps(store, run.pk, { from: 0, to: 300, total: 600 }, (s) => [
      { key: 'train/loss', value: nan(s) ? NaN : 3 / (1 + s / 50) },
      { key: 'logit_scale', value: 30 },
      { key: 'lr', value: 1e-4 },
      ...(s % 10 === 9 ? [{ key: 'val/loss', value: 2 / (1 + s / 80) }] : []),
    ]);
  }
  store.close();
  reader = new LiveReader(db);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await Promise.all(diagnosers.map((d) => d.close()));
  reader?.close();
});

function jobFor(ordinal: number): DiagnosisJob {
  const runPk = pks[ordinal]!;
  const row = reader.run(reader.sweeps()[0]!.pk, `r${ordinal}`)!;
  return {
    runPk,
    keys: reader.runKeys(runPk),
    status: row.status,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    failureKind: row.failureKind,
    reason: row.reason,
    summary: row.summary,
    thresholds: resolveThresholds({}),
    objective: { key: 'val/loss', direction: 'min' },
    now: 1_000,
  };
}

test('a diagnosis asked to give way stops between two series reads', () => {
  const job = jobFor(1);
  assert.ok(job.keys.length >= 4, `the run has ${job.keys.length} series`);
  let asked = 0;
  assert.throws(() => diagnoseFromDb(reader, job, () => ++asked > 1), DiagnosisDeferred);
  assert.equal(asked, 2, 'one series read, then it stopped');
  // Not asked to: the whole diagnosis, which sees the divergence.
  const done = diagnoseFromDb(reader, job, () => false);
  assert.deepEqual(done, diagnoseFromDb(reader, job));
  assert.ok(done.diagnostics.diverged, 'run 1 diverged');
});

test('the worker defers diagnoses while held, and does them once the hold ends', async () => {
  const held = new Diagnoser(db);
  diagnosers.push(held);
  held.hold(600_000);
  assert.equal(held.holdingNow, true);
  await assert.rejects(held.diagnose(jobFor(4)), { message: DEFERRED });
  await assert.rejects(held.diagnose(jobFor(5)), { message: DEFERRED });
  assert.deepEqual([held.holds, held.deferred], [1, 2]);

  const brief = new Diagnoser(db);
  diagnosers.push(brief);
  brief.hold(50);
  await waitFor(() => !brief.holdingNow, 'the hold to end', 10_000);
  const result = await brief.diagnose(jobFor(4));
  assert.deepEqual(result, diagnoseFromDb(reader, jobFor(4)));
  assert.equal(brief.deferred, 0);
});

test('opening the sweep page holds the diagnoses; every alert still arrives', { timeout: 90_000 }, async () => {
  server = await startServer({ dbFile: db, port: 0, pollMs: 200 });
  await server.warmed;
  const before = server.hub.diagnosesGivingWay().holds;
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${new URL(server.url).origin}/sweep/hold`);
  await page.waitForSelector(`#runs[data-rows="${RUNS}"]`);
  // The page's HTML and its event stream each held the worker.
  assert.ok(server.hub.diagnosesGivingWay().holds >= before + 2, JSON.stringify(server.hub.diagnosesGivingWay()));
  await page.waitForFunction(
    (n) => document.querySelectorAll('#alerts li[data-kind="diverged"]').length === n,
    DIVERGING.size,
    { timeout: 60_000 },
  );
  const runs = await page.$$eval('#alerts li[data-kind="diverged"]', (lis) =>
    lis.map((l) => l.getAttribute('data-run')),
  );
  assert.deepEqual(runs.sort(), [...DIVERGING].map((i) => `r${i}`).sort());
  await waitFor(() => !server!.hub.pendingDiagnoses(), 'every run diagnosed', 30_000);
  assert.deepEqual(problems, []);
});
