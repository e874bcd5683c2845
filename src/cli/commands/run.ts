import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { LocalExecutor } from '../../executor/local.js';
import { slurmOptionsFrom } from '../../executor/slurm/config.js';
import { SlurmExecutor } from '../../executor/slurm/executor.js';
import { runSweep } from '../../orchestrator/run-sweep.js';
import { chooseMode, createProgress } from '../../progress/index.js';
import { expandSweep, type RunSpec } from '../../sweep-file/expand.js';
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
  const runs = expandSweep(spec, { force: options.force });
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
        : estimateFrom(options.estimateFrom, asked, runs, estimateSlots, resolveDb(options.db, runsDir, io.cwd));
    const cost = costOf(spec, slots, estimate);
    printPlan(spec.name, runs, options.json, io.out, cost);
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
      runs,
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
        ? { staleAfterMs: options.staleAfterMs, heartbeatMs: Math.max(50, Math.floor(options.staleAfterMs / 4)) }
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

function printPlan(sweep: string, runs: RunSpec[], json: boolean, out: NodeJS.WritableStream, cost: Cost): void {
  if (json) {
    out.write(
      `${JSON.stringify({ sweep, runs: runs.map((r) => ({ id: r.id, name: r.name, origin: r.origin, params: r.params })), ...cost })}\n`,
    );
    return;
  }
  const nameWidth = Math.min(40, Math.max(4, ...runs.map((r) => r.name.length)));
  out.write(`${'id'.padEnd(12)}  ${'name'.padEnd(nameWidth)}  params\n`);
  for (const run of runs) out.write(`${run.id}  ${run.name.padEnd(nameWidth)}  ${JSON.stringify(run.params)}\n`);
  out.write(`${runs.length} run(s) in sweep ${sweep}; nothing was run (--dry-run)\n`);
}
