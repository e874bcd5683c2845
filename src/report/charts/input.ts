// The slice of the model the charts draw, in ranking order.
import type { ReportModel } from '../assemble.js';
import type { ChartInput } from './specs.js';

export const MAX_PANELS = 12;
export const MAX_LEGEND = 24;

export function chartInput(model: ReportModel): ChartInput {
  return {
    clamp: model.thresholds.scaleClamp,
    maxPanels: MAX_PANELS,
    maxLegend: MAX_LEGEND,
    x_axis: model.x_axis.default,
    ...(model.search
      ? {
          trials: {
            metric: model.search.metric,
            mode: model.search.mode,
            points: model.search.trials.map((t) => ({
              trial: t.trial,
              name: t.name,
              origin: t.origin ?? '',
              value: t.value,
              best: t.best,
            })),
          },
        }
      : {}),
    configs: model.configurations.map((c) => ({
      id: c.id,
      // Pruned runs are marked in every chart through their label (their curves stop early).
      name: pruneLabel(c.name, c.status_counts['pruned'] ?? 0, c.runs.length),
      rank: c.rank,
      color: c.color,
      dash: c.dash,
      params: c.params,
      series: c.series,
      best_step: c.diagnostics.best_val_step,
      best_val: c.diagnostics.best_val_loss,
      onset: c.diagnostics.overfit_onset_step,
      retrieval_best: c.diagnostics.retrieval_at_best,
      retrieval_final: c.diagnostics.retrieval_final,
      x_per_step: c.x_per_step,
    })),
  };
}

function pruneLabel(name: string, pruned: number, runs: number): string {
  if (pruned === 0) return name;
  return runs === 1 ? `${name} (pruned)` : `${name} (${pruned}/${runs} pruned)`;
}
