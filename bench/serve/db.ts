// The benchmark's databases, written through the store's own ingest (the one writer).
import { SqliteStore } from '../../src/store/index.js';
import type { MetricRow } from '../../src/store/types.js';
import { curveRows } from '../report/curves.js';

/** A finished sweep: `runs` x `steps` x 6 metrics, shaped like CLIP fine-tuning curves. */
export function writeBigSweep(db: string, runs: number, steps: number, runsDir: string): void {
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 'big', specPath: null, spec: {}, specHash: 'bench', runsDir });
  const lrs = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5];
  const batches = [32, 64, 128, 256];
  store.registerRuns(
    sweep.pk,
    Array.from({ length: runs }, (_, i) => ({
      id: `r${i}`,
      name: `run${i}`,
      params: {
        lr: lrs[i % 5]!,
        batch_size: batches[Math.floor(i / 5) % 4]!,
        warmup: [10_000, 20_000][Math.floor(i / 20) % 2]!,
        seed: Math.floor(i / 40),
      },
      ordinal: i,
      runDir: `${runsDir}/r${i}`,
    })),
  );
  for (const run of store.listRuns(sweep.pk)) {
    store.claimRun(run.pk, 'bench', 'cpu0', null);
    const p = run.params as { lr: number; seed: number };
    const dip = (p.lr * 1e6 * (run.ordinal % 7)) / 40;
    const batch: MetricRow[] = [];
    for (let step = 0; step < steps; step++) batch.push(...curveRows(step, steps, p, dip));
    store.ingest([
      {
        runPk: run.pk,
        attempt: 1,
        metrics: batch,
        events: [],
        offset: 1,
        lines: steps,
        badLines: 0,
        lastStep: steps - 1,
        totalSteps: steps,
      },
    ]);
    store.finishRun(run.pk, 'bench', { status: 'completed' });
  }
  store.close();
}

/** A running sweep of `runs` runs, all claimed; `tick` appends `lines` steps to each in one transaction. */
export function liveSweep(db: string, runs: number, runsDir: string): { tick(lines: number): number; close(): void } {
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 'live', specPath: null, spec: {}, specHash: 'bench', runsDir });
  store.registerRuns(
    sweep.pk,
    Array.from({ length: runs }, (_, i) => ({
      id: `l${i}`,
      name: `live${i}`,
      params: { lr: [1e-6, 5e-6, 1e-5, 5e-5][i % 4]!, seed: i },
      ordinal: i,
      runDir: `${runsDir}/l${i}`,
    })),
  );
  const records = store.listRuns(sweep.pk);
  for (const run of records) store.claimRun(run.pk, 'bench', `cpu${run.ordinal}`, null);
  let step = 0;
  let lines = 0;
  return {
    tick(n: number): number {
      const time = Date.now() / 1000;
      store.ingest(
        records.map((run) => {
          const metrics: MetricRow[] = [];
          for (let s = step; s < step + n; s++) {
            metrics.push(
              { key: 'train/loss', step: s, value: 3 / (1 + s / 100) + Math.sin(s + run.ordinal) * 0.05, time },
              { key: 'lr', step: s, value: 1e-5, time },
              { key: 'logit_scale', step: s, value: 14.3 + (s % 1000) / 20, time },
            );
            if (s % 50 === 49) metrics.push({ key: 'val/loss', step: s, value: 1 + 1 / (1 + s / 500), time });
          }
          return {
            runPk: run.pk,
            attempt: 1,
            metrics,
            events: [],
            offset: (lines + n) * 100,
            lines: n,
            badLines: 0,
            lastStep: step + n - 1,
            totalSteps: 1_000_000,
          };
        }),
      );
      step += n;
      lines += n;
      return step - 1;
    },
    close: () => store.close(),
  };
}
