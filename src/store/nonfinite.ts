// How a metric value sits in the metrics table: REAL `value` (NULL for NaN, which SQLite cannot
// store) and a `nonfinite` marker ('nan', 'inf', '-inf'). The one place that knows it: the writer
// encodes with nonFiniteOf, every reader decodes with decodeStored or VALUE_AS_TEXT_SQL.
import type { NonFinite } from './types.js';

export function nonFiniteOf(value: number): NonFinite | null {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return null;
}

export function decodeStored(value: number | null, nonfinite: string | null): number {
  if (nonfinite === 'inf') return Infinity;
  if (nonfinite === '-inf') return -Infinity;
  if (nonfinite === 'nan' || value === null) return NaN;
  return value;
}

/**
 * The value as text for group_concat, spelt so that JavaScript's Number() reads it back (SQLite
 * would print infinities as "Inf").
 */
export const VALUE_AS_TEXT_SQL = `CASE WHEN nonfinite = 'inf' THEN 'Infinity' WHEN nonfinite = '-inf' THEN '-Infinity'
                                  WHEN value IS NULL THEN 'NaN' ELSE value END`;
