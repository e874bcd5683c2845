// The SLURM executor's settings, resolved once from the sweep's resources (docs/slurm.md).
import { SpecError } from '../../errors.js';
import type { Resources } from '../../sweep-file/schema.js';
import { parseDuration } from '../../sweep-file/duration.js';
import type { SlurmBinaries } from './cli.js';

export interface SlurmOptions {
  partition?: string | undefined;
  /** GPUs per job (--gres=gpu:N); 0 asks for none and the run sees an empty CUDA_VISIBLE_DEVICES. */
  gpusPerRun: number;
  cpusPerRun?: number | undefined;
  mem?: string | undefined;
  time?: string | undefined;
  account?: string | undefined;
  qos?: string | undefined;
  sbatchArgs: readonly string[];
  /** Jobs of this orchestrator in the SLURM queue at once (its slots). */
  maxParallel: number;
  pollMs: number;
  /** Injected for tests and benchmarks (wrappers that count calls). */
  binaries?: Partial<SlurmBinaries>;
}

export const DEFAULT_MAX_PARALLEL = 32;
export const DEFAULT_POLL_MS = 5000;

export function slurmOptionsFrom(resources: Resources, file: string): SlurmOptions {
  let pollMs = DEFAULT_POLL_MS;
  if (resources.poll_interval !== undefined) {
    const parsed = parseDuration(resources.poll_interval);
    if (parsed === null)
      throw new SpecError(file, [
        `resources.poll_interval: expected a duration such as "5s" or "500ms", got ${JSON.stringify(resources.poll_interval)}`,
      ]);
    pollMs = parsed;
  }
  return {
    partition: resources.partition,
    // `gpus: none` says the sweep wants no GPU; otherwise one per run unless told.
    gpusPerRun: resources.gpus_per_run ?? (resources.gpus === 'none' ? 0 : 1),
    cpusPerRun: resources.cpus_per_run,
    mem: resources.mem === undefined ? undefined : String(resources.mem),
    time: resources.time === undefined ? undefined : String(resources.time),
    account: resources.account,
    qos: resources.qos,
    sbatchArgs: resources.sbatch_args ?? [],
    maxParallel: resources.max_parallel ?? DEFAULT_MAX_PARALLEL,
    pollMs,
  };
}

/** sbatch's own options for a job; the caller adds --parsable and the script. */
export function sbatchArgs(
  options: SlurmOptions,
  job: {
    runId: string;
    stdoutFile: string;
    stderrFile: string;
    cwd?: string | undefined;
    timeoutMs?: number | undefined;
  },
): string[] {
  // SLURM expands %j, %x, ... in output names; %% is a literal percent sign.
  const path = (p: string): string => p.replaceAll('%', '%%');
  const time =
    options.time ?? (job.timeoutMs !== undefined ? String(Math.ceil(job.timeoutMs / 60_000) + 1) : undefined);
  return [
    `--job-name=clipsweep-${job.runId}`,
    `--output=${path(job.stdoutFile)}`,
    `--error=${path(job.stderrFile)}`,
    '--open-mode=append',
    ...(job.cwd !== undefined ? [`--chdir=${job.cwd}`] : []),
    ...(options.partition !== undefined ? [`--partition=${options.partition}`] : []),
    ...(options.account !== undefined ? [`--account=${options.account}`] : []),
    ...(options.qos !== undefined ? [`--qos=${options.qos}`] : []),
    ...(options.gpusPerRun > 0 ? [`--gres=gpu:${options.gpusPerRun}`] : []),
    ...(options.cpusPerRun !== undefined ? [`--cpus-per-task=${options.cpusPerRun}`] : []),
    ...(options.mem !== undefined ? [`--mem=${options.mem}`] : []),
    ...(time !== undefined ? [`--time=${time}`] : []),
    // Last, so that a user's sbatch_args can override any of the above.
    ...options.sbatchArgs,
  ];
}
