// Report options resolved once, at the edge: thresholds with their defaults, the objective and
// the output formats. Bad values fail with a UsageError naming the option.
import { UsageError } from '../errors.js';

/** Every threshold a diagnostic uses; docs/report.md explains each. */
export interface Thresholds {
  /** Val loss must rise this fraction above its best (0.03 = 3 %) to count as overfitting. */
  overfitRise: number;
  /** ...and stay above that level for this many consecutive evaluations. */
  overfitPatience: number;
  /** Points in the trailing mean that smooths the per-batch train loss. */
  trainSmoothWindow: number;
  /** The logit-scale clamp (OpenCLIP: 100). */
  scaleClamp: number;
  /** A rebound ends within this fraction of the clamp (0.03: at or above 97). */
  reboundTolerance: number;
  /** A rebound starts with a fall of at least this fraction below the running maximum. */
  scaleDip: number;
  /** Smoothed train loss above this multiple of its running minimum is divergence. */
  divergenceFactor: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  overfitRise: 0.03,
  overfitPatience: 2,
  trainSmoothWindow: 25,
  scaleClamp: 100,
  reboundTolerance: 0.03,
  scaleDip: 0.1,
  divergenceFactor: 3,
});

export function resolveThresholds(partial: Partial<Thresholds> = {}): Thresholds {
  const out: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in DEFAULT_THRESHOLDS)) {
      throw new UsageError(
        `thresholds.${key}: unknown threshold; known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new UsageError(`thresholds.${key}: expected a number >= 0, received ${JSON.stringify(value)}`);
    }
    out[key as keyof Thresholds] = value;
  }
  for (const key of ['overfitPatience', 'trainSmoothWindow'] as const) {
    if (!Number.isInteger(out[key]) || out[key] < 1)
      throw new UsageError(`thresholds.${key}: expected an integer >= 1, received ${out[key]}`);
  }
  return out;
}

export type Format = 'html' | 'png' | 'json' | 'csv';
export const FORMATS: readonly Format[] = ['html', 'png', 'json', 'csv'];

export function resolveFormats(formats: readonly string[] | undefined): Format[] {
  if (formats === undefined) return [...FORMATS];
  const list = formats
    .flatMap((f) => f.split(','))
    .map((f) => f.trim())
    .filter((f) => f !== '');
  const bad = list.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || list.length === 0) {
    throw new UsageError(
      `--format: expected a comma-separated list of ${FORMATS.join(', ')}, received "${formats.join(',')}"`,
    );
  }
  // The page shows the PNGs' data itself, so html alone does not force png.
  return [...new Set(list as Format[])];
}

/** What the charts' x axis counts: optimiser steps, epochs, or training samples seen. */
export type XAxis = 'step' | 'epoch' | 'samples';
export const X_AXES: readonly XAxis[] = ['step', 'epoch', 'samples'];

export function parseXAxis(text: string): XAxis {
  if (!(X_AXES as readonly string[]).includes(text))
    throw new UsageError(`--x: expected one of ${X_AXES.join(', ')}, received "${text}"`);
  return text as XAxis;
}

export type Direction = 'min' | 'max';

export interface Objective {
  key: string;
  direction: Direction;
}

/** Tried in order when no objective is given; the first that some run recorded wins. */
export const DEFAULT_OBJECTIVES: readonly string[] = [
  'val/loss',
  'val/i2t_R@1',
  'val/t2i_R@1',
  'train_eval/loss',
  'train/loss',
];

/**
 * "val/loss", "max:val/i2t_R@5" or "min:foo". Without a prefix, keys that look like a loss or an
 * error are minimised and everything else (recall, accuracy) maximised.
 */
export function parseObjective(text: string): Objective {
  const match = /^(?:(min|max):)?(\S+)$/.exec(text.trim());
  if (!match)
    throw new UsageError(`--objective: expected a metric key such as val/loss or max:val/i2t_R@1, received "${text}"`);
  const key = match[2]!;
  const direction = (match[1] as Direction | undefined) ?? (/loss|error|perplexity|nll/i.test(key) ? 'min' : 'max');
  return { key, direction };
}
