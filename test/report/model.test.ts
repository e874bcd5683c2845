// Diagnostics and the report model, read back from report.json as a script would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NotFoundError, UsageError } from '../../src/errors.js';
import { buildReport } from '../../src/report/index.js';
import {
  fallingTrain,
  fullMetrics,
  mainSweep,
  makeDb,
  reboundScale,
  risingScale,
  tempDir,
  cleanVal,
  vVal,
  XSS_NAME,
} from './fixtures.js';
import { parseXAxis } from '../../src/report/options.js';

interface JsonRun {
  name: string;
  status: string;
  params: Record<string, unknown>;
  diagnostics: Record<string, unknown>;
}
interface JsonReport {
  runs: JsonRun[];
  configurations: {
    id: string;
    name: string;
    rank: number | null;
    runs: string[];
    color: string;
    diagnostics: Record<string, unknown>;
    objective: { mean: number | null; n: number };
  }[];
  best: string | null;
  objective: { key: string; ranked: boolean; note: string | null };
  status: { all_failed: boolean; running: number; message: string | null };
  comparison: { configurations: string[]; changed_params: { key: string }[] } | null;
  heatmaps: unknown[];
}

async function jsonReport(
  db: string,
  extra: Parameters<typeof buildReport>[0] extends infer O ? Partial<O> : never = {},
) {
  const out = join(tempDir(), 'out');
  const result = await buildReport({ dbFile: db, outDir: out, formats: ['json', 'csv'], ...extra });
  return { result, report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as JsonReport, out };
}
const run = (r: JsonReport, name: string) => r.runs.find((x) => x.name === name)!.diagnostics;

test('a V-shaped validation loss is flagged at the step the rise passes the threshold', async () => {
  const { report } = await jsonReport(mainSweep(join(tempDir(), 'a.db')));
  const d = run(report, 'overfit');
  assert.equal(d['best_val_step'], 1000);
  assert.equal(d['best_val_loss'], 1);
  assert.equal(d['overfit_onset_step'], 1100);
  assert.equal(d['gap_source'], 'train_eval');
  // val 2.0 - train_eval 1.0 at the end; 1.0 - 2.0 at the best step.
  assert.ok(Math.abs((d['final_gap'] as number) - 1) < 1e-9);
  assert.ok(Math.abs((d['gap_at_best'] as number) + 1) < 1e-9);
  assert.equal(d['scale_rebound'], false);
});

test('a logit scale that dips and climbs back to the clamp is flagged; a clean run is not', async () => {
  const { report } = await jsonReport(mainSweep(join(tempDir(), 'b.db')));
  const r = run(report, 'rebound');
  assert.equal(r['scale_rebound'], true);
  assert.equal(r['scale_min'], 50);
  assert.equal(r['scale_min_step'], 800);
  assert.equal(r['scale_rebound_step'], 1370);
  assert.equal(r['scale_final'], 100);
  assert.equal(r['overfit_onset_step'], null);
  for (const name of ['clean_s1', 'clean_s2']) {
    const c = run(report, name);
    assert.equal(c['overfit_onset_step'], null, name);
    assert.equal(c['scale_rebound'], false, name);
    assert.equal(c['diverged'], false, name);
    assert.equal(c['best_val_step'], 2000, name);
  }
  assert.equal(run(report, 'clean_s2')['early_stop'], true);
  assert.equal(run(report, 'clean_s1')['early_stop'], false);
});

test('seeds form one configuration, ranked by val loss; divergence and failure are reported', async () => {
  const { report, result } = await jsonReport(mainSweep(join(tempDir(), 'c.db')));
  assert.equal(report.objective.key, 'val/loss');
  const clean = report.configurations.find((c) => c.name === 'clean')!;
  assert.deepEqual(clean.runs, ['clean_s1', 'clean_s2']);
  assert.equal(clean.objective.n, 2);
  assert.equal(report.configurations.length, 4);
  const colors = new Set(report.configurations.map((c) => c.color));
  assert.equal(colors.size, 4);
  // overfit's best val loss is 1.0, the lowest.
  assert.equal(report.configurations[0]!.name, 'overfit');
  assert.equal(report.configurations[0]!.rank, 1);
  assert.equal(report.best, report.configurations[0]!.id);
  const xss = report.runs.find((r) => r.name === XSS_NAME)!;
  assert.equal(xss.status, 'failed');
  assert.equal(xss.diagnostics['diverged'], true);
  assert.equal(xss.diagnostics['divergence_kind'], 'nan');
  assert.equal(xss.diagnostics['divergence_step'], 500);
  assert.equal(xss.diagnostics['failure_reason'], 'exit: exit code 1 <b>boom</b>');
  // The spec's named configurations are compared side by side.
  assert.equal(report.comparison?.configurations.length, 2);
  assert.deepEqual(
    report.comparison?.changed_params.map((p) => p.key),
    ['batch_size'],
  );
  assert.equal(report.heatmaps.length, 1);
  const csv = readFileSync(join(result.outDir, 'ranking.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 4);
  assert.match(csv[1]!, /^1,overfit,/);
});

test('an all-failed sweep says so and does not crash', async () => {
  const db = makeDb(join(tempDir(), 'f.db'), 'broken', [
    { name: 'a', params: { lr: 1 }, status: 'failed', end: { failureKind: 'oom', reason: 'out of memory' } },
    {
      name: 'b',
      params: { lr: 2 },
      status: 'failed',
      metrics: { 'train/loss': [10, fallingTrain] },
      steps: 50,
      end: { failureKind: 'exit', reason: 'exit code 3' },
    },
  ]);
  const out = join(tempDir(), 'out');
  const result = await buildReport({ dbFile: db, outDir: out });
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as JsonReport;
  assert.equal(report.status.all_failed, true);
  assert.equal(report.best, null);
  assert.match(report.status.message ?? '', /All 2 runs failed/);
  assert.ok(result.warnings.some((w) => /All 2 runs failed/.test(w)));
  assert.equal(run(report, 'a')['failure_reason'], 'oom: out of memory');
  assert.ok(result.indexHtml && readFileSync(result.indexHtml, 'utf8').includes('All 2 runs failed'));
});

test('a running sweep: partial diagnostics, running runs marked, queued runs listed', async () => {
  const db = makeDb(join(tempDir(), 'r.db'), 'live', [
    { name: 'done', params: { lr: 1 }, status: 'completed', metrics: fullMetrics(cleanVal, risingScale) },
    { name: 'going', params: { lr: 2 }, status: 'running', metrics: fullMetrics(cleanVal, reboundScale), steps: 700 },
    { name: 'waiting', params: { lr: 3 }, status: 'queued' },
  ]);
  const { report } = await jsonReport(db);
  assert.equal(report.status.running, 1);
  assert.match(report.status.message ?? '', /in progress/);
  assert.equal(run(report, 'going')['partial'], true);
  assert.equal(run(report, 'going')['last_step'], 700);
  assert.equal(run(report, 'going')['scale_rebound'], false);
  assert.equal(run(report, 'waiting')['best_val_step'], null);
  assert.equal(report.configurations.length, 3);
});

test('a trainer that reports only train loss still gets a report', async () => {
  const db = makeDb(join(tempDir(), 'p.db'), 'sparse', [
    { name: 'x', params: { lr: 1 }, status: 'completed', metrics: { 'train/loss': [1, fallingTrain] } },
    {
      name: 'y',
      params: { lr: 2 },
      status: 'completed',
      metrics: { 'train/loss': [1, (s) => (s === 1500 ? Infinity : fallingTrain(s) + 0.1)] },
    },
  ]);
  const { report } = await jsonReport(db, { formats: ['json', 'png', 'html'] });
  assert.equal(report.objective.key, 'train/loss');
  assert.equal(report.configurations[0]!.name, 'x');
  assert.equal(run(report, 'x')['best_val_step'], null);
  assert.equal(run(report, 'x')['final_gap'], null);
  assert.equal(run(report, 'y')['divergence_kind'], 'inf');
  assert.equal(run(report, 'y')['divergence_step'], 1500);
});

test('a batch-dependent val loss does not rank a batch-size grid', async () => {
  const info = { kind: 'started', payload: { total_steps: 2000, info: { batch_dependent_metrics: ['val/loss'] } } };
  const db = makeDb(join(tempDir(), 'bd.db'), 'bs', [
    {
      name: 'b64',
      params: { batch_size: 64 },
      status: 'completed',
      metrics: fullMetrics(cleanVal, risingScale),
      events: [info],
    },
    {
      name: 'b256',
      params: { batch_size: 256 },
      status: 'completed',
      metrics: fullMetrics(vVal2, risingScale),
      events: [info],
    },
  ]);
  const auto = (await jsonReport(db)).report;
  assert.equal(auto.objective.key, 'val/i2t_R@1');
  assert.match(auto.objective.note ?? '', /val\/loss depends on the training batch size/);
  const forced = (await jsonReport(db, { objective: 'val/loss' })).report;
  assert.equal(forced.objective.ranked, false);
  assert.ok(forced.configurations.every((c) => c.rank === null));
  assert.equal(forced.best, null);
});
const vVal2 = (s: number) => 1 + Math.abs(s - 1000) / 1000;

test('errors: missing database or sweep, bad format or objective', async () => {
  const db = mainSweep(join(tempDir(), 'e.db'));
  await assert.rejects(buildReport({ dbFile: join(tempDir(), 'none.db') }), NotFoundError);
  await assert.rejects(buildReport({ dbFile: db, sweep: 'nope' }), NotFoundError);
  await assert.rejects(buildReport({ dbFile: db, formats: ['pdf' as 'html'] }), UsageError);
  await assert.rejects(
    buildReport({ dbFile: db, objective: 'val/nothing' }),
    /no run of this sweep recorded "val\/nothing"/,
  );
  await assert.rejects(buildReport({ dbFile: db, thresholds: { overfitRise: -1 } }), UsageError);
});

interface ObservationJson {
  configuration: string;
  overfitting: string;
  scale: string;
  recall: string;
  occurred: Record<string, boolean>;
}

test('recall still rising after the best val-loss step is a per-run diagnostic, key by key', async () => {
  const { report } = await jsonReport(mainSweep(join(tempDir(), 'rr.db')));
  const rising = run(report, 'overfit')['recall_rising_after_best'] as Record<string, { from: number; to: number }>;
  // Recall rises linearly (s / 10000) all along; the best val step is 1000, the last 2000.
  assert.deepEqual(Object.keys(rising).sort(), [
    'val/i2t_R@1',
    'val/i2t_R@10',
    'val/i2t_R@5',
    'val/t2i_R@1',
    'val/t2i_R@10',
    'val/t2i_R@5',
  ]);
  assert.ok(Math.abs(rising['val/i2t_R@5']!.from - 0.4) < 1e-9 && Math.abs(rising['val/i2t_R@5']!.to - 0.5) < 1e-9);
  // A run whose best val step is its last evaluation has nothing after it.
  assert.deepEqual(run(report, 'clean_s1')['recall_rising_after_best'], {});
  const d = run(report, 'overfit');
  assert.ok(Math.abs((d['val_rise_after_best'] as number) - 1) < 1e-9);
  assert.equal(d['val_rise_step'], 2000);
  const r = run(report, 'rebound');
  assert.equal(r['scale_start'], 100);
  assert.ok(Math.abs((r['scale_dip'] as number) - 0.5) < 1e-9);
});

test('the three observations are stated in words per named configuration, or plainly said not to occur', async () => {
  const { report } = await jsonReport(mainSweep(join(tempDir(), 'ob.db')));
  const obs = (report as unknown as { observations: ObservationJson[] }).observations;
  assert.deepEqual(
    obs.map((o) => o.configuration),
    ['overfit', 'rebound'],
  );
  const [overfit, rebound] = obs as [ObservationJson, ObservationJson];
  assert.match(
    overfit.overfitting,
    /^Overfitting: validation loss lowest at step 1000 \(1\), then rose 100\.0% \(step 2000\) while the train reference went from 2 to 1; overfitting from step 1100\.$/,
  );
  assert.match(
    overfit.scale,
    /^No scale rebound: started at 14\.3 and never fell more than 0\.0% below its peak \(a dip is 10\.0%\); lowest 14\.3 at step 0, ended at 60\.$/,
  );
  assert.match(
    overfit.recall,
    /recall alone would have picked the overfitted weights: after the best step \(1000\): i2t_R@1 0\.2 → 0\.3, i2t_R@5 0\.4 → 0\.5, i2t_R@10 0\.5 → 0\.6, t2i_R@1/,
  );
  assert.deepEqual(overfit.occurred, { overfitting: true, scale_rebound: false, recall_rising: true });
  assert.match(rebound.overfitting, /^No overfitting/);
  assert.match(
    rebound.scale,
    /^The logit scale dipped and climbed back to the clamp: started at 100, fell to 50 at step 800 \(50\.0% below its peak so far\), back at 97 or more by step 1370\.$/,
  );
  assert.match(rebound.recall, /^Recall and validation loss agree: no recall@k rose after step 2000\.$/);
});

test('the best configuration names its best-step checkpoint when it overfits; varying parameters are split from constant ones', async () => {
  const { report } = await jsonReport(mainSweep(join(tempDir(), 'bc.db')));
  const r = report as unknown as {
    best_checkpoint: unknown;
    params_constant: Record<string, unknown>;
    params_varying: string[];
    x_axis: unknown;
  };
  assert.deepEqual(r.best_checkpoint, {
    configuration: 'overfit',
    overfits: true,
    runs: [{ run: 'overfit', step: 1000 }],
  });
  assert.deepEqual(r.params_constant, { warmup: 100 });
  assert.deepEqual(r.params_varying, ['batch_size', 'lr', 'note']);
  // No trainer said its steps per epoch: epochs are not offered; samples are (batch_size is known).
  assert.deepEqual(r.x_axis, { default: 'step', available: ['step', 'samples'] });
});

test('x axis: epochs by default when batch_size varies and epochs are known; --x overrides; charts convert', async () => {
  const started = (spe: number) => [
    { kind: 'started', payload: { total_steps: 2000, info: { steps_per_epoch: spe } } },
  ];
  const db = makeDb(join(tempDir(), 'x.db'), 'xs', [
    {
      name: 'b64',
      params: { batch_size: 64 },
      status: 'completed',
      metrics: fullMetrics(vVal, risingScale),
      events: started(5),
    },
    {
      name: 'b16',
      params: { batch_size: 16 },
      status: 'completed',
      metrics: fullMetrics(cleanVal, risingScale),
      events: started(20),
    },
  ]);
  const auto = (await jsonReport(db)).report as unknown as { x_axis: { default: string; available: string[] } };
  assert.deepEqual(auto.x_axis, { default: 'epoch', available: ['step', 'epoch', 'samples'] });
  const forced = (await jsonReport(db, { xAxis: 'samples' })).report as unknown as { x_axis: { default: string } };
  assert.equal(forced.x_axis.default, 'samples');
  const { buildCharts } = await import('../../src/report/charts/specs.js');
  const config = (name: string, perStep: { epoch: number; samples: number }) => ({
    id: name,
    name,
    rank: null,
    color: '#000000',
    dash: [],
    params: {},
    series: { 'val/loss': { x: [0, 100, 200], y: [3, 2, 1] } },
    best_step: 200,
    best_val: 1,
    onset: 100,
    retrieval_best: {},
    retrieval_final: {},
    x_per_step: perStep,
  });
  const input = {
    configs: [config('a', { epoch: 1 / 5, samples: 64 }), config('b', { epoch: 1 / 20, samples: 16 })],
    clamp: 100,
    maxPanels: 12,
    maxLegend: 24,
  };
  const xOf = (axis: 'step' | 'epoch' | 'samples') => {
    const def = buildCharts({ ...input, x_axis: axis }).find((d) => d.id === 'overfitting')!;
    const cfg = def.panels[0]!.config as {
      data: { datasets: { label: string; data: { x: number }[] }[] };
      options: { scales: { x: { title: { text: string } } } };
    };
    const val = cfg.data.datasets.find((d) => d.label === 'val/loss')!;
    return { xs: val.data.map((p) => p.x), title: cfg.options.scales.x.title.text, panel: def.panels[0]!.title };
  };
  assert.deepEqual(xOf('step'), { xs: [0, 100, 200], title: 'step', panel: 'a (overfits from step 100)' });
  assert.deepEqual(xOf('epoch'), { xs: [0, 20, 40], title: 'epoch', panel: 'a (overfits from epoch 20)' });
  assert.deepEqual(xOf('samples').xs, [0, 6400, 12800]);
  // One configuration without the factor: everything stays in steps rather than mixing scales.
  const mixed = buildCharts({
    ...input,
    configs: [input.configs[0]!, { ...input.configs[1]!, x_per_step: { epoch: null, samples: 16 } }] as never,
    x_axis: 'epoch',
  });
  const cfg = mixed.find((d) => d.id === 'overfitting')!.panels[0]!.config as {
    options: { scales: { x: { title: { text: string } } } };
  };
  assert.equal(cfg.options.scales.x.title.text, 'step');
  assert.equal(parseXAxis('epoch'), 'epoch');
  assert.throws(
    () => parseXAxis('time'),
    (e: unknown) => e instanceof UsageError && /--x: expected one of step, epoch, samples/.test((e as Error).message),
  );
});
