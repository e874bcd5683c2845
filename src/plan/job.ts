// What a run's child is: argv, working folder, environment and files. The protocol's variables
// are set here (docs/protocol.md); the executor adds CUDA_VISIBLE_DEVICES for the slot.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from '../executor/types.js';
import type { SweepSpec } from '../spec/load.js';

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

export function buildJob(
  spec: SweepSpec,
  run: { id: string; params: Record<string, unknown> },
  paths: RunPaths,
  attempt: number,
  nodePath: string,
): Job {
  const argv = spec.trainer === 'builtin' ? [nodePath, BUILTIN_TRAINER] : [...spec.trainer.command];
  const cwd = spec.trainer === 'builtin' ? undefined : spec.trainer.cwd;
  const extraEnv = spec.trainer === 'builtin' ? {} : (spec.trainer.env ?? {});
  return {
    runId: run.id,
    runDir: paths.runDir,
    argv,
    ...(cwd !== undefined ? { cwd } : {}),
    env: {
      ...extraEnv,
      SWEEP_RUN_ID: run.id,
      SWEEP_RUN_DIR: paths.runDir,
      SWEEP_PARAMS: JSON.stringify(run.params),
      SWEEP_METRICS_FILE: paths.metricsFile,
      SWEEP_CHECKPOINT_DIR: paths.checkpointDir,
      SWEEP_ATTEMPT: String(attempt),
    },
    stdoutFile: paths.stdoutFile,
    stderrFile: paths.stderrFile,
    ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
    killGraceMs: spec.killGraceMs,
  };
}
