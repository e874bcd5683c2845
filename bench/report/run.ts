// Benchmark of `sweep report` at scale: 200 runs x 20,000 steps x 6 metrics (24 M points) written
// into a temp database through the store, then buildReport timed in a fresh child process so its
// peak RSS is its own. Targets (issue 4): < 15 s, < 1 GB, index.html < 10 MB.
//   node dist/bench/report/run.js [--runs 200] [--steps 20000] [--db FILE (reuse if it exists)]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/index.js';
import type { MetricRow } from '../../src/store/types.js';
import { curveRows } from './curves.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const RUNS = Number(arg('runs', '200'));
const STEPS = Number(arg('steps', '20000'));
const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-'));
const db = arg('db', join(dir, 'sweeps.db'));

function write(): void {
  const store = SqliteStore.open(db);
  const sweep = store.registerSweep({ name: 'bench', specPath: null, spec: {}, specHash: 'bench', runsDir: dir });
  const lrs = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5];
  const batches = [32, 64, 128, 256];
  const warmups = [10_000, 20_000];
  const seedsPer = Math.max(1, Math.round(RUNS / (lrs.length * batches.length * warmups.length)));
  const runs = Array.from({ length: RUNS }, (_, i) => {
    const params = {
      lr: lrs[i % 5]!,
      batch_size: batches[Math.floor(i / 5) % 4]!,
      warmup: warmups[Math.floor(i / 20) % 2]!,
      seed: Math.floor(i / 40) % seedsPer,
    };
    return { id: `r${i}`, name: `run${i}`, params, ordinal: i, runDir: join(dir, `r${i}`) };
  });
  store.registerRuns(sweep.pk, runs);
  const started = Date.now();
  for (const run of store.listRuns(sweep.pk)) {
    store.claimRun(run.pk, 'bench', 'cpu0', null);
    const p = run.params as { lr: number; batch_size: number; seed: number };
    const dip = (p.lr * 1e6 * (run.ordinal % 7)) / 40; // some runs' scale dips and rebounds
    const batch: MetricRow[] = [];
    for (let step = 0; step < STEPS; step++) batch.push(...curveRows(step, STEPS, p, dip));
    store.ingest([
      {
        runPk: run.pk,
        attempt: 1,
        metrics: batch,
        events: [],
        offset: 1,
        lines: STEPS,
        badLines: 0,
        lastStep: STEPS - 1,
      },
    ]);
    store.finishRun(run.pk, 'bench', { status: 'completed' });
  }
  store.close();
  process.stdout.write(
    `wrote ${RUNS} runs x ${STEPS} steps x 6 metrics in ${((Date.now() - started) / 1000).toFixed(1)} s (${(statSync(db).size / 1e6).toFixed(0)} MB)\n`,
  );
}

if (!existsSync(db)) write();
const child = fileURLToPath(new URL('./build.js', import.meta.url));
const out = join(dir, 'report');
const result = JSON.parse(execFileSync(process.execPath, [child, db, out], { encoding: 'utf8' })) as {
  seconds: number;
  maxRssMb: number;
  indexBytes: number;
  files: number;
};
const mark = (ok: boolean) => (ok ? 'ok' : 'OVER TARGET');
process.stdout.write(
  [
    `buildReport: ${result.seconds.toFixed(2)} s (target < 15 s: ${mark(result.seconds < 15)})`,
    `peak RSS: ${result.maxRssMb.toFixed(0)} MB (target < 1024 MB: ${mark(result.maxRssMb < 1024)})`,
    `index.html: ${(result.indexBytes / 1e6).toFixed(2)} MB (target < 10 MB: ${mark(result.indexBytes < 10e6)})`,
    `files written: ${result.files}`,
  ].join('\n') + '\n',
);
if (arg('db', '') === '') rmSync(dir, { recursive: true, force: true });
