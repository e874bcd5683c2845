// Fixture sweep databases written through the real SqliteStore, with known curve shapes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/index.js';
import type { EventRow, MetricRow, RunEnd } from '../../src/store/types.js';

export type Curve = (step: number) => number;

export interface FixtureRun {
  name: string;
  params: Record<string, unknown>;
  /** Final state; 'running' stays claimed, 'queued' is never claimed. */
  status: 'completed' | 'failed' | 'running' | 'queued' | 'interrupted';
  /** Metric key -> [every, curve]: the curve is sampled at steps 0, every, 2*every, ... <= steps. */
  metrics?: Record<string, [number, Curve]>;
  steps?: number;
  events?: { kind: string; payload: Record<string, unknown> }[];
  summary?: unknown;
  end?: Omit<RunEnd, 'status'>;
}

export function tempDir(prefix = 'clipsweep-report-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeDb(file: string, sweep: string, runs: FixtureRun[], spec: unknown = {}): string {
  const store = SqliteStore.open(file);
  try {
    const record = store.registerSweep({
      name: sweep,
      specPath: null,
      spec,
      specHash: sweep,
      runsDir: join('runs', sweep),
    });
    store.registerRuns(
      record.pk,
      runs.map((r, i) => ({
        id: `run${i}`,
        name: r.name,
        params: r.params,
        ordinal: i,
        runDir: join('runs', sweep, `run${i}`),
      })),
    );
    const pks = store.listRuns(record.pk).map((r) => r.pk);
    runs.forEach((run, i) => {
      const pk = pks[i]!;
      if (run.status === 'queued') return;
      store.claimRun(pk, 'fixture', 'cpu0', null);
      const metrics: MetricRow[] = [];
      const steps = run.steps ?? 2000;
      for (const [key, [every, curve]] of Object.entries(run.metrics ?? {})) {
        for (let step = 0; step <= steps; step += every)
          metrics.push({ key, step, value: curve(step), time: 1000 + step });
      }
      const events: EventRow[] = (run.events ?? []).map((e, j) => ({
        offset: j,
        kind: e.kind,
        step: null,
        payload: e.payload,
        time: 1000,
      }));
      store.ingest([
        {
          runPk: pk,
          attempt: 1,
          metrics,
          events,
          offset: 1,
          lines: metrics.length,
          badLines: 0,
          lastStep: steps,
          summary: run.summary,
        },
      ]);
      if (run.status !== 'running') store.finishRun(pk, 'fixture', { status: run.status, ...(run.end ?? {}) });
    });
    return file;
  } finally {
    store.close();
  }
}

// ---- shapes --------------------------------------------------------------------------------

/** Falls linearly from 3 to 1 over 2000 steps. */
export const fallingTrain: Curve = (s) => 3 - s / 1000;
/** V: lowest (1.0) at step 1000, then rising by 0.1 per 100 steps. */
export const vVal: Curve = (s) => 1 + Math.abs(s - 1000) / 1000;
/** Keeps falling: no overfitting. */
export const cleanVal: Curve = (s) => 2 - s / 4000;
/** 100 until 200, down to 50 at 800, back to 100 at 1400 (crosses 97 at 1364). */
export const reboundScale: Curve = (s) =>
  s <= 200 ? 100 : s <= 800 ? 100 - ((s - 200) / 600) * 50 : Math.min(100, 50 + ((s - 800) / 600) * 50);
/** From CLIP's initial 14.3 steadily up to 60: no dip, no rebound. */
export const risingScale: Curve = (s) => 14.3 + (s / 2000) * 45.7;
export const cosineLr =
  (base: number, warmup: number): Curve =>
  (s) =>
    s < warmup ? (base * (s + 1)) / warmup : 0.5 * (1 + Math.cos((Math.PI * (s - warmup)) / (2000 - warmup))) * base;

export const fullMetrics = (val: Curve, scale: Curve, lr = 1e-5): Record<string, [number, Curve]> => ({
  'train/loss': [10, fallingTrain],
  'val/loss': [100, val],
  'train_eval/loss': [100, fallingTrain],
  logit_scale: [10, scale],
  lr: [10, cosineLr(lr, 200)],
  'val/i2t_R@1': [100, (s) => 0.1 + s / 10000],
  'val/i2t_R@5': [100, (s) => 0.3 + s / 10000],
  'val/i2t_R@10': [100, (s) => 0.4 + s / 10000],
  'val/t2i_R@1': [100, (s) => 0.12 + s / 10000],
  'val/t2i_R@5': [100, (s) => 0.32 + s / 10000],
  'val/t2i_R@10': [100, (s) => 0.42 + s / 10000],
});

export const XSS_NAME = '<script>alert(1)</script>';

/** The main fixture: a V-shaped overfitter, a rebounding scale, a clean run, two seeds, an XSS name. */
export function mainSweep(file: string): string {
  return makeDb(
    file,
    'grid',
    [
      {
        name: 'overfit',
        params: { batch_size: 256, lr: 5e-6, warmup: 100 },
        status: 'completed',
        metrics: fullMetrics(vVal, risingScale),
      },
      {
        name: 'rebound',
        params: { batch_size: 64, lr: 5e-6, warmup: 100 },
        status: 'completed',
        metrics: fullMetrics(cleanVal, reboundScale),
      },
      {
        name: 'clean_s1',
        params: { batch_size: 64, lr: 1e-6, warmup: 100, seed: 1 },
        status: 'completed',
        metrics: fullMetrics(cleanVal, risingScale),
      },
      {
        name: 'clean_s2',
        params: { batch_size: 64, lr: 1e-6, warmup: 100, seed: 2 },
        status: 'completed',
        metrics: fullMetrics((s) => cleanVal(s) + 0.02, risingScale),
        summary: { reason: 'early_stop' },
      },
      {
        name: XSS_NAME,
        params: { batch_size: 256, lr: 1e-6, warmup: 100, note: '</script><b>x</b>' },
        status: 'failed',
        metrics: { 'train/loss': [10, (s) => (s >= 500 ? NaN : fallingTrain(s))] },
        steps: 600,
        end: {
          failureKind: 'exit',
          reason: 'exit code 1 <b>boom</b>',
          exitCode: 1,
          stderrTail: 'Error: <img src=x onerror=alert(2)>',
        },
      },
    ],
    { configs: [{ name: 'overfit' }, { name: 'rebound' }] },
  );
}
