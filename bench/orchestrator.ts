// npm run bench: the orchestrator's own costs. Prints figures; asserts nothing.
//   1. per-run bookkeeping: 1,000 runs of a child that exits at once, 2 slots, against a bare
//      loop spawning the same children with the same concurrency;
//   2. ingestion: 20 children each writing 50,000 metric lines as fast as they can;
//   3. peak RSS of a sweep of 10,000 runs (in a fresh process).
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import PQueue from 'p-queue';
import { LocalExecutor } from '../src/executor/local.js';
import type { Executor } from '../src/executor/types.js';
import { Recorder } from '../src/metrics/recorder.js';
import { runSweep } from '../src/orchestrator/run-sweep.js';
import { planSweep } from '../src/sweep-file/expand.js';
import { parseSweep } from '../src/sweep-file/load.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { IngestBatch } from '../src/store/types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRUE = '/bin/true';

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
const ms = (v: number): string => `${v.toFixed(2)} ms`;

async function sweepOf(runs: number, slots: number, dir: string, trainer: string[]) {
  const spec = parseSweep(
    `name: bench\ntrainer: { command: ${JSON.stringify(trainer)} }\ngrid: { i: [${Array.from({ length: runs }, (_, i) => i).join(',')}] }\nresources: { gpus: none, cpu_slots: ${slots} }\n`,
    join(dir, 'bench.yaml'),
  );
  return { spec, plan: planSweep(spec, { force: true }) };
}

/** Wraps an executor to time each child, from spawn request to exit, per slot. */
function timed(inner: Executor, log: { slot: string; start: number; end: number }[]): Executor {
  return {
    name: inner.name,
    slots: () => inner.slots(),
    stopOrphan: (run, grace) => inner.stopOrphan(run, grace),
    async run(job, slot, hooks) {
      const start = performance.now();
      try {
        return await inner.run(job, slot, hooks);
      } finally {
        log.push({ slot: slot.id, start, end: performance.now() });
      }
    },
  };
}

async function benchOverhead(): Promise<void> {
  const N = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-'));
  // Bare loop: the same children, the same concurrency, nothing else.
  const queue = new PQueue({ concurrency: 2 });
  const bareStart = performance.now();
  for (let i = 0; i < N; i++)
    void queue.add(() =>
      execa(TRUE, [], { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', detached: true }),
    );
  await queue.onIdle();
  const bareMs = performance.now() - bareStart;

  const { spec, plan } = await sweepOf(N, 2, dir, [TRUE]);
  const store = SqliteStore.open(join(dir, 'sweeps.db'));
  const log: { slot: string; start: number; end: number }[] = [];
  const sweepStart = performance.now();
  await runSweep({
    spec,
    specRecord: {},
    specHash: 'bench',
    plan,
    store,
    executor: timed(new LocalExecutor({ resources: spec.resources, specFile: spec.file }), log),
    runsDir: join(dir, 'runs'),
    policy: { retryFailed: true, retryInfeasible: false, rerun: false },
    signal: new AbortController().signal,
    onEvent: () => undefined,
    jobContext: { nodePath: process.execPath, home: '/tmp', specDir: '/tmp' },
    host: hostname(),
    pid: process.pid,
  });
  const sweepMs = performance.now() - sweepStart;
  store.close();
  const gaps: number[] = [];
  for (const slot of new Set(log.map((l) => l.slot))) {
    const mine = log.filter((l) => l.slot === slot).sort((a, b) => a.start - b.start);
    for (let i = 1; i < mine.length; i++) gaps.push(mine[i]!.start - mine[i - 1]!.end);
  }
  const childMs = log.map((l) => l.end - l.start);
  console.log(`\n1. Orchestration overhead: ${N} runs of ${TRUE}, 2 slots`);
  console.log(
    `   bare loop (execa + p-queue only): ${(bareMs / 1000).toFixed(2)} s, ${ms((bareMs * 2) / N)} per run per slot`,
  );
  console.log(
    `   clipsweep (store, run folders, recorder, executor): ${(sweepMs / 1000).toFixed(2)} s, ${ms((sweepMs * 2) / N)} per run per slot`,
  );
  console.log(`   per-run bookkeeping from wall time: ${ms(((sweepMs - bareMs) * 2) / N)} (target < 5 ms)`);
  console.log(
    `   executor.run per child (spawn, wait, classify, log tail): median ${ms(quantile(childMs, 0.5))}, p95 ${ms(quantile(childMs, 0.95))}`,
  );
  console.log(
    `   idle gap on a freed slot (end of one run to start of the next, all bookkeeping between): median ${ms(quantile(gaps, 0.5))}, p95 ${ms(quantile(gaps, 0.95))}`,
  );
}

async function benchIngestion(rate = 0): Promise<void> {
  const CHILDREN = 20;
  const LINES = rate > 0 ? rate * 10 : 50_000;
  const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-'));
  const store = SqliteStore.open(join(dir, 'sweeps.db'));
  const sweep = store.registerSweep({ name: 'ingest', specPath: null, spec: {}, specHash: 'x', runsDir: dir });
  store.registerRuns(
    sweep.pk,
    Array.from({ length: CHILDREN }, (_, i) => ({
      id: `r${i}`,
      name: `r${i}`,
      params: {},
      ordinal: i,
      runDir: join(dir, `r${i}`),
    })),
  );
  const runs = store.listRuns(sweep.pk);
  const lags: number[] = [];
  let rows = 0;
  let insertMs = 0;
  const sink = {
    ingest(batches: readonly IngestBatch[]) {
      const t0 = performance.now();
      store.ingest(batches);
      insertMs += performance.now() - t0;
      const committed = Date.now() / 1000;
      for (const b of batches) {
        rows += b.metrics.length;
        for (let i = 0; i < b.metrics.length; i += 30) lags.push((committed - b.metrics[i]!.time) * 1000);
      }
    },
  };
  const recorder = new Recorder(sink, { pollMs: 100 });
  for (const run of runs) {
    mkdirSync(run.runDir, { recursive: true });
    recorder.watch({
      runPk: run.pk,
      attempt: 1,
      metricsFile: join(run.runDir, 'metrics.jsonl'),
      problemsFile: join(run.runDir, 'problems.log'),
      offset: 0,
      linesBefore: 0,
    });
  }
  const start = performance.now();
  await Promise.all(
    runs.map((run) =>
      execa(process.execPath, [join(ROOT, 'bench/fixtures/writer.mjs')], {
        env: { SWEEP_METRICS_FILE: join(run.runDir, 'metrics.jsonl'), LINES: String(LINES), RATE: String(rate) },
      }),
    ),
  );
  const writersDone = performance.now();
  for (const run of runs) recorder.finish(run.pk);
  recorder.close();
  const end = performance.now();
  const total = store.listRuns(sweep.pk).reduce((n, r) => n + store.countMetrics(r.pk), 0);
  store.close();
  const pace = rate > 0 ? `at ${rate} lines/s each (a steady load)` : 'as fast as they can';
  console.log(
    `\n2. Ingestion: ${CHILDREN} children x ${LINES} lines x 3 metrics, ${pace}, recorder polling every 100 ms`,
  );
  console.log(`   rows in SQLite: ${total} (expected ${CHILDREN * LINES * 3})`);
  console.log(
    `   children wrote for ${((writersDone - start) / 1000).toFixed(2)} s; everything ingested ${((end - writersDone) / 1000).toFixed(2)} s after the last child exited`,
  );
  console.log(
    `   end-to-end ${Math.round(rows / ((end - start) / 1000)).toLocaleString('en')} rows/s while the children compete for the 2 cores`,
  );
  console.log(
    `   SQLite insert alone: ${Math.round(rows / (insertMs / 1000)).toLocaleString('en')} rows/s (target > 300,000)`,
  );
  console.log(
    `   lag from line written to row committed: median ${ms(quantile(lags, 0.5))}, p95 ${ms(quantile(lags, 0.95))}`,
  );
}

async function benchRss(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-'));
  const child = await execa(process.execPath, [fileURLToPath(new URL('./rss-child.js', import.meta.url)), dir], {
    reject: false,
    all: true,
  });
  console.log(`\n3. Peak RSS, a sweep of 10,000 queued runs of ${TRUE} (4 slots), in a fresh process`);
  console.log(`   ${child.all.trim().split('\n').join('\n   ')}`);
}

const only = process.argv[2];
if (!only || only === 'overhead') await benchOverhead();
if (!only || only === 'ingest') {
  await benchIngestion();
  await benchIngestion(2000);
}
if (!only || only === 'rss') await benchRss();
void readFileSync;
