import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LocalExecutor } from '../../executor/local.js';
import { slurmOptionsFrom } from '../../executor/slurm/config.js';
import { SlurmExecutor } from '../../executor/slurm/executor.js';
import { runSweep } from '../../orchestrator/run-sweep.js';
import { chooseMode, createProgress } from '../../progress/index.js';
import { planSweep, type SweepPlan } from '../../sweep-file/expand.js';
import { loadSweepFile } from '../../sweep-file/load.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { resolveDb, resolveRunsDir } from '../defaults.js';
import { EXIT } from '../exit-codes.js';
import { costOf, estimateFrom, printCost, type Cost } from './run-estimate.js';
import type { Executor } from '../../executor/types.js';

export interface RunOptions {
  file: string;
  dryRun: boolean;
  force: boolean;
  retryFailed: boolean;
  retryInfeasible: boolean;
  rerun: boolean;
  quiet: boolean;
  json: boolean;
  runsDir?: string | undefined;
  db?: string | undefined;
  pollMs?: number;
  /** How long a silent heartbeat means a dead sweep process (default 60 s; tests shorten it). */
  staleAfterMs?: number;
  /** How often this process writes its heartbeat (default a quarter of staleAfterMs; tests). */
  heartbeatMs?: number;
  /** Overrides resources.executor. */
  executor?: 'local' | 'slurm' | undefined;
  /** --dry-run: estimate durations and GPU-hours from this recorded sweep. */
  estimateFrom?: string | undefined;
}

export interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  cwd: string;
}

export async function runCommand(options: RunOptions, io: Io): Promise<number> {
  const file = resolve(io.cwd, options.file);
  const spec = loadSweepFile(file);
  const plan = planSweep(spec, { force: options.force });
  const runsDir = resolveRunsDir(options.runsDir, io.cwd);
  const executor = (): Executor =>
    (options.executor ?? spec.resources.executor ?? 'local') === 'slurm'
      ? new SlurmExecutor(slurmOptionsFrom(spec.resources, file))
      : new LocalExecutor({ resources: spec.resources, specFile: file });
  if (options.dryRun) {
    // The layout is shown where the machine (or the batch scheduler) can be asked.
    const slots = await executor()
      .slots()
      .catch(() => []);
    const { file: _f, ...asked } = spec;
    // pack: memory decides per GPU how many run at once: one per GPU gives an upper bound.
    const estimateSlots = spec.resources.pack === 'memory' ? slots.filter((s) => s.id.endsWith('.0')) : slots;
    const estimate =
      options.estimateFrom === undefined
        ? null
        : // The estimate simulates the whole queue: it holds the runs (asked for explicitly, with --estimate-from).
          estimateFrom(
            options.estimateFrom,
            asked,
            [...plan.runs()],
            estimateSlots,
            resolveDb(options.db, runsDir, io.cwd),
          );
    const cost = costOf(spec, slots, estimate);
    await printPlan(spec.name, plan, options.json, io.out, cost);
    if (!options.json) printCost(cost, options.estimateFrom, spec.resources.pack === 'memory', io.out);
    return EXIT.ok;
  }
  const store = SqliteStore.open(resolveDb(options.db, runsDir, io.cwd));
  const progress = createProgress(chooseMode(options, io.out), io.out, io.err);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted)
      io.err.write(`\nsweep: ${signal}: stopping runs (SIGTERM, then SIGKILL after ${spec.killGraceMs / 1000}s)...\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { file: _file, ...specRecord } = spec;
    const summary = await runSweep({
      spec,
      specRecord,
      specHash: createHash('sha256').update(readFileSync(file)).digest('hex'),
      plan,
      store,
      executor: executor(),
      runsDir,
      policy: { retryFailed: options.retryFailed, retryInfeasible: options.retryInfeasible, rerun: options.rerun },
      signal: controller.signal,
      onEvent: (event) => progress.onEvent(event),
      jobContext: {
        nodePath: process.execPath,
        home: homedir(),
        specDir: dirname(file),
        pythonPath: process.env.PYTHONPATH,
      },
      host: hostname(),
      pid: process.pid,
      pollMs: options.pollMs ?? 200,
      ...(options.staleAfterMs !== undefined
        ? {
            staleAfterMs: options.staleAfterMs,
            heartbeatMs: options.heartbeatMs ?? Math.max(50, Math.floor(options.staleAfterMs / 4)),
          }
        : {}),
    });
    progress.stop();
    if (!options.json) {
      io.out.write(
        `runs:     ${resolve(runsDir, spec.name)}\ndatabase: ${store.file}\nnext:     sweep status ${spec.name}   |   sweep report ${spec.name}\n`,
      );
    }
    if (summary.interruptedBySignal) return EXIT.interrupted;
    return summary.failed + summary.infeasible + summary.interrupted > 0 ? EXIT.runsFailed : EXIT.ok;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.close();
  }
}

/** The plan, written as it is expanded; a reader that stops early (`| head`) ends it quietly. */
async function printPlan(
  sweep: string,
  plan: SweepPlan,
  json: boolean,
  out: NodeJS.WritableStream,
  cost: Cost,
): Promise<void> {
  let broken: Error | null = null;
  const onError = (error: Error): void => {
    broken = error;
  };
  out.on('error', onError);
  // Waits for the stream to drain when its buffer is full, so a huge plan is never buffered whole.
  const write = async (text: string): Promise<void> => {
    if (broken !== null) throw broken;
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  try {
    if (json) {
      // The same single JSON object as ever, written a run at a time.
      await write(`{"sweep":${JSON.stringify(sweep)},"runs":[`);
      let first = true;
      for (const r of plan.runs()) {
        await write(
          `${first ? '' : ','}${JSON.stringify({ id: r.id, name: r.name, origin: r.origin, params: r.params })}`,
        );
        first = false;
      }
      const rest = JSON.stringify(cost).slice(1);
      await write(`]${rest === '}' ? '}' : `,${rest}`}\n`);
      return;
    }
    const nameWidth = Math.min(40, Math.max(4, plan.longestName()));
    await write(`${'id'.padEnd(12)}  ${'name'.padEnd(nameWidth)}  params\n`);
    for (const run of plan.runs())
      await write(`${run.id}  ${run.name.padEnd(nameWidth)}  ${JSON.stringify(run.params)}\n`);
    await write(`${plan.size} run(s) in sweep ${sweep}; nothing was run (--dry-run)\n`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  } finally {
    out.off('error', onError);
  }
}
