// The sweep file's shape, validated with zod. Only the shape lives here; cross-field rules
// (known parameters, duplicate names, empty plans) are in validate.ts so that every problem is
// reported at once with its YAML path.
import { z } from 'zod';

/** A parameter value as written in YAML. Objects are allowed (e.g. early_stopping: {...}). */
export const paramValue: z.ZodType<unknown> = z.union([
  z.number(),
  z.string(),
  z.boolean(),
  z.null(),
  z.array(z.unknown()),
  z.record(z.string(), z.unknown()),
]);

const paramName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected a parameter name (letters, digits, _ . -)');

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
});

export const commandTrainerSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1, 'expected a non-empty argv list'),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
});

export const trainerSchema = z.union([z.literal('builtin'), commandTrainerSchema]);

/** "2h", "30m", "90s", "1h30m", "1d", or a number of seconds. */
export const durationSchema = z.union([z.number().positive(), z.string().min(1)]);

export const configSchema = z
  .object({ name: z.string().min(1, 'expected a non-empty name') })
  .catchall(paramValue);

export const sweepSchema = z.strictObject({
  name: z.string().regex(sweepNamePattern, 'expected a name of letters, digits, . _ - (no slashes)'),
  description: z.string().optional(),
  trainer: trainerSchema,
  base: z.record(paramName, paramValue).default({}),
  grid: z.record(paramName, z.array(paramValue).min(1, 'expected a non-empty list')).optional(),
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
