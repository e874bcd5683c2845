// Rules for the parameters every trainer understands the same way. Other parameters pass
// through untouched: the trainer validates them itself.
import { parseWarmup, WARMUP_EXPECTED } from '../protocol/warmup.js';

/** Returns what was expected when `value` is not acceptable for `key`, else null. */
export function checkKnownParam(key: string, value: unknown): string | null {
  switch (key) {
    case 'batch_size':
      return isPositiveInt(value) ? null : 'expected a positive integer';
    case 'lr':
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? null : 'expected a positive number';
    case 'weight_decay':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? null : 'expected a number >= 0';
    case 'warmup':
      return isWarmup(value) ? null : `expected ${WARMUP_EXPECTED}`;
    case 'epochs':
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? null : 'expected a positive number';
    case 'steps':
      return isPositiveInt(value) ? null : 'expected a positive integer';
    case 'seed':
      return Number.isInteger(value) && (value as number) >= 0 ? null : 'expected an integer >= 0';
    default:
      return null;
  }
}

function isPositiveInt(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) > 0;
}

function isWarmup(value: unknown): boolean {
  return parseWarmup(value) !== null;
}

/** Parameter names the orchestrator reserves for itself. */
export const RESERVED_PARAMS = new Set(['name']);

/**
 * Metric keys the built-in trainer writes (src/trainer/train.ts: every evaluation set's loss and
 * retrieval figures, and the training-step figures), so that a search objective it never
 * reports is refused before anything runs.
 */
const BUILTIN_METRIC =
  /^((val|train_eval|retain)\/(loss|(i2t|t2i)_(R@(1|5|10)|mean_rank|median_rank))|train\/loss|train\/samples_per_sec|lr|logit_scale)$/;

export function isBuiltinMetric(key: string): boolean {
  return BUILTIN_METRIC.test(key);
}
