// The search space TPE works in, built from the sweep file's grid: a list is a categorical
// choice, {uniform|loguniform: [a, b], int?} a numeric range. Values cross this boundary both
// ways: a run's parameters are encoded (a categorical as its index), a proposal decoded.
import { canonicalJson } from '../sweep-file/expand.js';
import type { Distribution } from '../sweep-file/search.js';

export type Dimension =
  | { kind: 'numeric'; name: string; low: number; high: number; log: boolean; int: boolean }
  | { kind: 'categorical'; name: string; choices: readonly unknown[]; keys: readonly string[] };

export type Space = readonly Dimension[];

/** The grid as a space; single-value lists are fixed, not searched, and are left out. */
export function spaceFromGrid(grid: Record<string, unknown[] | Distribution>): Space {
  const dims: Dimension[] = [];
  for (const [name, spec] of Object.entries(grid)) {
    if (Array.isArray(spec)) {
      if (spec.length > 1) dims.push({ kind: 'categorical', name, choices: spec, keys: spec.map(canonicalJson) });
    } else if ('uniform' in spec) {
      dims.push({ kind: 'numeric', name, low: spec.uniform[0], high: spec.uniform[1], log: false, int: spec.int });
    } else {
      dims.push({ kind: 'numeric', name, low: spec.loguniform[0], high: spec.loguniform[1], log: true, int: spec.int });
    }
  }
  return dims;
}

/** The grid's fixed values (single-value lists), which every proposal carries. */
export function fixedFromGrid(grid: Record<string, unknown[] | Distribution>): Record<string, unknown> {
  const fixed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(grid)) if (Array.isArray(spec) && spec.length === 1) fixed[name] = spec[0];
  return fixed;
}

/**
 * A parameter value in the sampler's terms: a number inside the range, or a choice's index.
 * Null when the value is not in the space (a named configuration off the grid): such a run
 * does not inform the model, as Optuna leaves out trials outside its intersection space.
 */
export function encode(dim: Dimension, value: unknown): number | null {
  if (dim.kind === 'categorical') {
    const index = dim.keys.indexOf(canonicalJson(value));
    return index < 0 ? null : index;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < dim.low || value > dim.high) return null;
  return value;
}

/** Four significant digits: readable in run names and ids, and finer than any setting matters. */
export function round4(value: number): number {
  return Number(value.toPrecision(4));
}

export function decode(dim: Dimension, internal: number): unknown {
  if (dim.kind === 'categorical')
    return dim.choices[Math.min(dim.choices.length - 1, Math.max(0, Math.round(internal)))];
  const value = dim.int ? Math.round(internal) : round4(internal);
  return Math.min(dim.high, Math.max(dim.low, value));
}

/** One uniform draw in the space (the start-up trials), every integer equally likely. */
export function sampleUniform(dim: Dimension, next: () => number): number {
  const u = next();
  if (dim.kind === 'categorical') return Math.min(dim.choices.length - 1, Math.floor(u * dim.choices.length));
  const [low, high] = widened(dim);
  const x = dim.log ? Math.exp(Math.log(low) + u * (Math.log(high) - Math.log(low))) : low + u * (high - low);
  return dim.int ? Math.min(dim.high, Math.max(dim.low, Math.round(x))) : x;
}

/**
 * An integer range widened by half a step each side, so that the end values get a whole unit of
 * mass like every other integer (Optuna does the same); a log range never reaches 0.
 */
export function widened(dim: Dimension & { kind: 'numeric' }): [number, number] {
  if (!dim.int) return [dim.low, dim.high];
  return [dim.log ? Math.max(dim.low - 0.5, dim.low / 2) : dim.low - 0.5, dim.high + 0.5];
}
