// The sweep file's shape, validated with zod. Only the shape lives here; cross-field rules
// (known parameters, duplicate names, empty plans) are in validate.ts so that every problem is
// reported at once with its YAML path.
import { z } from 'zod';
import { earlyTerminationSchema } from '../prune/config.js';
import { distributionSchema, searchSchema } from './search.js';

/** A parameter value as written in YAML. Objects are allowed (e.g. early_stopping: {...}). */
export const paramValue: z.ZodType<unknown> = z.union([
  z.number(),
  z.string(),
  z.boolean(),
  z.null(),
  z.array(z.unknown()),
  z.record(z.string(), z.unknown()),
]);

const paramName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected a parameter name (letters, digits, _ . -)');

export const sweepNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const gpusSetting = z.union([
  z.literal('auto'),
  z.literal('none'),
  z.array(z.number().int().nonnegative()).min(1, 'expected at least one GPU index'),
]);

export const resourcesSchema = z.strictObject({
  /** auto: ask nvidia-smi; none: CPU slots only; a list: exactly these GPU indices. */
  gpus: gpusSetting.default('auto'),
  runs_per_gpu: z.number().int().positive().default(1),
  cpu_slots: z.number().int().positive().default(1),
  /**
   * runs_per_gpu (the default): a fixed number of runs per GPU. memory: runs are placed where
   * their predicted GPU memory fits under what is free (docs/gpu.md).
   */
  pack: z.enum(['runs_per_gpu', 'memory']).optional(),
  /** pack: memory: MiB kept free on every GPU (default 1024). */
  memory_margin_mib: z.number().nonnegative().optional(),
  /** pack: memory: the most runs on one GPU (default 16). */
  max_runs_per_gpu: z.number().int().positive().optional(),
  /** Skip a GPU none of the sweep's runs use while its utilisation is at least this ("50%" or 50). */
  skip_busy: z
    .union([z.number().min(0).max(100), z.string().regex(/^\d+(\.\d+)?%$/, 'expected a percentage such as "50%"')])
    .optional(),
  /** Milliseconds between nvidia-smi samples (default 5000), and between samples stored for the report (default 30000). */
  gpu_poll_ms: z.number().int().positive().optional(),
  gpu_record_ms: z.number().int().positive().optional(),
  /** local (the default, when absent): child processes here; slurm: one batch job per run (docs/slurm.md). */
  executor: z.enum(['local', 'slurm']).optional(),
  /** GPUs each run sees (local: CUDA_VISIBLE_DEVICES, chosen close together; SLURM: --gres). */
  gpus_per_run: z.number().int().nonnegative().optional(),
  // SLURM only (docs/slurm.md); ignored by the local executor.
  partition: z.string().min(1).optional(),
  cpus_per_run: z.number().int().positive().optional(),
  /** sbatch --mem: "64G", "500M", or megabytes. */
  mem: z
    .union([z.number().int().positive(), z.string().regex(/^\d+[KMGT]?$/i, 'expected a size such as "64G" or "500M"')])
    .optional(),
  /** sbatch --time: "12:00:00", "1-00:00:00", "30:00", or minutes. */
  time: z
    .union([
      z.number().int().positive(),
      z
        .string()
        .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, 'expected a SLURM time such as "12:00:00", "1-00:00:00" or minutes'),
    ])
    .optional(),
  account: z.string().min(1).optional(),
  qos: z.string().min(1).optional(),
  sbatch_args: z.array(z.string().min(1)).optional(),
  /** Jobs of this sweep in the SLURM queue at once. */
  max_parallel: z.number().int().positive().optional(),
  /** Seconds between polls of the controller ("5s", "500ms", or seconds). */
  // Spelled out: durationSchema is declared further down.
  poll_interval: z.union([z.number().positive(), z.string().min(1)]).optional(),
});

/** A named pattern for `metrics: regex`: a line matching `regex` yields the named groups as metrics. */
export const linePatternSchema = z.strictObject({
  regex: z.string().min(1),
  /** metric key -> name of the regex group holding its value */
  metrics: z
    .record(z.string().min(1), z.string().min(1))
    .refine((m) => Object.keys(m).length > 0, 'expected at least one metric'),
  /** group holding the step; without it the line belongs to the last step seen */
  step: z.string().min(1).optional(),
  epoch: z.string().min(1).optional(),
  /** which output the pattern reads (default both) */
  stream: z.enum(['stdout', 'stderr', 'both']).default('both'),
});

export const commandTrainerSchema = z.strictObject({
  /** argv; each element may hold {placeholders}: run parameters and run_id, run_dir, seed, ... */
  command: z.array(z.string().min(1)).min(1, 'expected a non-empty argv list'),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** How the trainer's metrics are read: the protocol file, OpenCLIP's output, or patterns. */
  metrics: z.enum(['jsonl', 'openclip', 'regex']).default('jsonl'),
  /** flags: every parameter is also passed as --name-with-dashes value. */
  args: z.enum(['none', 'flags']).default('none'),
  patterns: z.array(linePatternSchema).optional(),
  /** openclip: where results.jsonl is (default <--logs>/<--name>/checkpoints/results.jsonl from the argv) */
  results_file: z.string().min(1).optional(),
});

export const trainerSchema = z.union([z.literal('builtin'), commandTrainerSchema]);

/** "2h", "30m", "90s", "1h30m", "1d", or a number of seconds. */
export const durationSchema = z.union([z.number().positive(), z.string().min(1)]);

export const configSchema = z.object({ name: z.string().min(1, 'expected a non-empty name') }).catchall(paramValue);

export const sweepSchema = z.strictObject({
  name: z
    .string()
    .regex(
      sweepNamePattern,
      'expected a name of 1 to 100 characters: letters, digits, . _ - (no slashes, not starting with . _ or -)',
    ),
  description: z.string().optional(),
  trainer: trainerSchema,
  base: z.record(paramName, paramValue).default({}),
  grid: z
    .record(paramName, z.union([z.array(paramValue).min(1, 'expected a non-empty list'), distributionSchema]))
    .optional(),
  /** grid (default): the cartesian product; random: `samples` draws from lists and distributions. */
  search: searchSchema.optional(),
  early_termination: earlyTerminationSchema.optional(),
  configs: z.array(configSchema).optional(),
  seeds: z.array(z.number().int().nonnegative()).min(1, 'expected a non-empty list').optional(),
  resources: resourcesSchema.default({ gpus: 'auto', runs_per_gpu: 1, cpu_slots: 1 }),
  retries: z.number().int().nonnegative().default(0),
  timeout: durationSchema.optional(),
  /** Seconds between SIGTERM and SIGKILL when a run is stopped. */
  kill_grace: durationSchema.optional(),
});

export type SweepFile = z.infer<typeof sweepSchema>;
export type Resources = z.infer<typeof resourcesSchema>;
export type TrainerSpec = z.infer<typeof trainerSchema>;
export type CommandTrainer = z.infer<typeof commandTrainerSchema>;
export type LinePattern = z.infer<typeof linePatternSchema>;
