// report.json and ranking.csv: the model for scripts. report.json leaves out the drawn series
// (they are only a picture of the data in the database).
import type { ReportModel } from './assemble.js';

export function reportJson(model: ReportModel): string {
  const configurations = model.configurations.map(({ series: _series, ...rest }) => rest);
  return JSON.stringify({ ...model, configurations }, finiteOrString, 2) + '\n';
}

/** JSON has no NaN or Infinity; write them as the strings the metrics protocol accepts. */
function finiteOrString(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

export const RANKING_COLUMNS = [
  'rank',
  'configuration',
  'params',
  'objective',
  'objective_std',
  'seeds',
  'best_val_loss',
  'best_val_step',
  'final_gap',
  'overfit_onset_step',
  'scale_min',
  'scale_final',
  'scale_rebound_runs',
  'early_stop_runs',
  'diverged_runs',
  'duration_s',
  'status',
] as const;

export function rankingCsv(model: ReportModel): string {
  const lines = [RANKING_COLUMNS.join(',')];
  for (const c of model.configurations) {
    const d = c.diagnostics;
    const row = [
      c.rank,
      c.name,
      JSON.stringify(c.params),
      c.objective.mean,
      c.objective.std,
      c.runs.length,
      d.best_val_loss,
      d.best_val_step,
      d.final_gap,
      d.overfit_onset_step,
      d.scale_min,
      d.scale_final,
      d.scale_rebound_runs,
      d.early_stop_runs,
      d.diverged_runs,
      d.duration_s,
      statusText(c.status_counts),
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function statusText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // A leading = + - @ makes spreadsheets evaluate the cell; quote it as text.
  if (/^[=+\-@]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
