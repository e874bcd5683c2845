// What a run's child is: argv, working folder, environment and files. The protocol's variables
// are set here (docs/protocol.md); the executor adds CUDA_VISIBLE_DEVICES for the slot.
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from '../executor/types.js';
import type { SweepSpec } from '../sweep-file/load.js';
import { flagValue } from '../sweep-file/flags.js';
import { paramsAsFlags, substitute } from '../sweep-file/placeholders.js';

export interface RunPaths {
  runDir: string;
  metricsFile: string;
  checkpointDir: string;
  stdoutFile: string;
  stderrFile: string;
  configFile: string;
  problemsFile: string;
}

export function runPaths(runDir: string): RunPaths {
  return {
    runDir,
    metricsFile: join(runDir, 'metrics.jsonl'),
    checkpointDir: join(runDir, 'checkpoints'),
    stdoutFile: join(runDir, 'stdout.log'),
    stderrFile: join(runDir, 'stderr.log'),
    configFile: join(runDir, 'config.json'),
    problemsFile: join(runDir, 'ingest-problems.log'),
  };
}

/** The built-in TF.js trainer, next to this file once compiled (dist/src/trainer/main.js). */
export const BUILTIN_TRAINER = fileURLToPath(new URL('../trainer/main.js', import.meta.url));
/** clipsweep_metrics.py, for Python trainers (on their PYTHONPATH). */
export const PYTHON_HELPER_DIR = fileURLToPath(new URL('../../../python/', import.meta.url));

/** What the CLI resolved once, at the edge, for building children. */
export interface JobContext {
  nodePath: string;
  home: string;
  /** Folder of the sweep file: a relative trainer cwd is relative to it. */
  specDir: string;
  /** The orchestrator's own PYTHONPATH, kept after the helper's folder. */
  pythonPath?: string | undefined;
}

export interface RunIdentity {
  id: string;
  name: string;
  params: Record<string, unknown>;
}

export interface BuiltJob {
  job: Job;
  /** For `metrics: openclip`: where OpenCLIP writes results.jsonl, if it can be known. */
  resultsFile: string | null;
}

export function buildJob(
  spec: SweepSpec,
  run: RunIdentity,
  paths: RunPaths,
  attempt: number,
  context: JobContext,
): BuiltJob {
  const env: Record<string, string> = {
    SWEEP_RUN_ID: run.id,
    SWEEP_RUN_DIR: paths.runDir,
    SWEEP_PARAMS: JSON.stringify(run.params),
    SWEEP_METRICS_FILE: paths.metricsFile,
    SWEEP_CHECKPOINT_DIR: paths.checkpointDir,
    SWEEP_ATTEMPT: String(attempt),
  };
  const common = {
    runId: run.id,
    runDir: paths.runDir,
    stdoutFile: paths.stdoutFile,
    stderrFile: paths.stderrFile,
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    killGraceMs: spec.killGraceMs,
  };
  if (spec.trainer === 'builtin') {
    return { job: { ...common, argv: [context.nodePath, BUILTIN_TRAINER], env }, resultsFile: null };
  }
  const trainer = spec.trainer;
  const values: Record<string, unknown> = {
    ...run.params,
    run_id: run.id,
    run_dir: paths.runDir,
    checkpoint_dir: paths.checkpointDir,
    metrics_file: paths.metricsFile,
    attempt,
    sweep: spec.name,
    name: run.name,
  };
  const argv = trainer.command.map((arg) => substitute(arg, values));
  if (trainer.args === 'flags') argv.push(...paramsAsFlags(run.params));
  const cwd = trainer.cwd === undefined ? undefined : resolvePath(substitute(trainer.cwd, values), context);
  const userEnv = Object.fromEntries(Object.entries(trainer.env ?? {}).map(([k, v]) => [k, substitute(v, values)]));
  const pythonPath = [PYTHON_HELPER_DIR.replace(/\/$/, ''), userEnv.PYTHONPATH ?? context.pythonPath]
    .filter(Boolean)
    .join(':');
  const resultsFile =
    trainer.metrics !== 'openclip'
      ? null
      : trainer.results_file !== undefined
        ? resolve(cwd ?? context.specDir, substitute(trainer.results_file, values))
        : openClipResults(argv, cwd);
  return {
    job: {
      ...common,
      argv,
      ...(cwd !== undefined ? { cwd } : {}),
      env: { ...userEnv, PYTHONPATH: pythonPath, ...env },
    },
    resultsFile,
  };
}

function resolvePath(path: string, context: JobContext): string {
  const expanded = path === '~' ? context.home : path.startsWith('~/') ? join(context.home, path.slice(2)) : path;
  return isAbsolute(expanded) ? expanded : resolve(context.specDir, expanded);
}

/** OpenCLIP writes <--logs>/<--name>/checkpoints/results.jsonl (logs default ./logs). */
function openClipResults(argv: string[], cwd: string | undefined): string | null {
  const flag = (name: string): string | undefined => flagValue(argv, name);
  const name = flag('--name');
  if (name === undefined) return null;
  return resolve(cwd ?? '.', flag('--logs') ?? './logs', name, 'checkpoints', 'results.jsonl');
}
