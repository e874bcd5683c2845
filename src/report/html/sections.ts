// Server-rendered parts of the page: summary, ranking table, comparison, heatmaps, run details.
// Every value from the database is escaped here.
import type { ReportModel } from '../assemble.js';
import { heatColor } from '../charts/scale.js';
import type { ConfigReport } from '../model.js';
import { statusText } from '../tables.js';
import { recallOrder } from '../observations.js';
import { escapeHtml as e } from './escape.js';
import { duration, num, params } from './format.js';

export function summary(model: ReportModel): string {
  const o = model.objective;
  const best = model.configurations.find((c) => c.id === model.best);
  const warnings = model.warnings.map((w) => `<p class="warning">${e(w)}</p>`).join('');
  const head = `<p>Sweep <b>${e(model.sweep.name)}</b>: ${model.status.total} runs (${e(statusText(model.status.counts)) || 'none'}), ${model.configurations.length} configurations. Objective: <code>${e(o.key)}</code> (${o.direction === 'min' ? 'lower' : 'higher'} is better, best value over each run, mean over seeds).</p>`;
  const c = model.compute;
  const spent =
    c.pruned_runs > 0
      ? `<p>Early termination pruned <b>${c.pruned_runs}</b> run(s): ${num(c.child_seconds / 3600)} child-hours spent against about ${num(c.full_estimate_seconds / 3600)} for the full sweep (${num(100 * (c.saved_fraction ?? 0))}% saved). Pruned runs are marked <span class="status pruned">pruned</span> in the tables; their curves stop where they were stopped.</p>`
      : '';
  const searched = model.search === null ? '' : searchSummary(model.search);
  if (!best) return `${head}${searched}${spent}${warnings}<p class="none">No configuration could be ranked.</p>`;
  const d = best.diagnostics;
  const facts = [
    d.best_val_step !== null
      ? `validation loss lowest (${num(d.best_val_loss)}) at step ${num(d.best_val_step)}`
      : 'no validation loss recorded',
    d.overfit_onset_step !== null
      ? `<b>overfits</b> from step ${num(d.overfit_onset_step)} (${d.overfit_runs}/${best.runs.length} runs)`
      : 'no overfitting detected',
    `generalisation gap ${num(d.gap_at_best)} at the best step, ${num(d.final_gap)} at the end`,
    d.scale_min !== null
      ? `logit scale min ${num(d.scale_min)}, final ${num(d.scale_final)}${d.scale_rebound_runs > 0 ? `, <b>rebounds</b> to the clamp in ${d.scale_rebound_runs}/${best.runs.length} runs` : ', no rebound'}`
      : 'no logit scale recorded',
    d.diverged_runs > 0 ? `<b>diverged</b> in ${d.diverged_runs} runs` : 'no divergence',
    d.early_stop_runs > 0 ? `early-stopped in ${d.early_stop_runs}/${best.runs.length} runs` : 'not early-stopped',
    `duration ${duration(d.duration_s)}`,
  ];
  const ck = model.best_checkpoint;
  const checkpoint =
    ck && ck.overfits && ck.runs.length > 0
      ? `<p class="checkpoint">It overfits: what is meant is its <b>checkpoint at the best validation-loss step</b> (${ck.runs.map((r) => `${e(r.run)}: step ${num(r.step)}`).join(', ')}; the run's <code>best</code> checkpoint), not its final weights.</p>`
      : '';
  return `${head}${searched}${spent}${warnings}<div class="best" style="border-color:${e(best.color)}"><h3>Best configuration: <span class="swatch" style="background:${e(best.color)}"></span>${e(best.name)}</h3>
<p>${params(pick(best.params, model.params_varying))}</p>${checkpoint}<p>${e(o.key)} = <b>${num(best.objective.mean)}</b>${best.objective.n > 1 ? ` ± ${num(best.objective.std)} (${best.objective.n} seeds)` : ''}</p><ul>${facts.map((f) => `<li>${f}</li>`).join('')}</ul></div>${observations(model)}`;
}

/** The parameters of `p` named in `keys` (the ones that vary across the sweep). */
export function pick(p: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in p).map((k) => [k, p[k]]));
}

/** The seed's three observations in words, per named configuration. */
export function observations(model: ReportModel): string {
  if (model.observations.length === 0) return '';
  const items = model.observations
    .map((o) => {
      const c = model.configurations.find((x) => x.name === o.configuration);
      const swatch = c ? `<span class="swatch" style="background:${e(c.color)}"></span>` : '';
      return `<div class="observations" data-config="${e(o.configuration)}"><h3>${swatch}${e(o.configuration)}</h3><ul>
<li class="obs-overfitting">${e(o.overfitting)}</li><li class="obs-scale">${e(o.scale)}</li><li class="obs-recall">${e(o.recall)}</li></ul></div>`;
    })
    .join('');
  return `<h3 id="observations">What the runs show</h3><p>Overfitting, the logit scale's dip and climb back to the clamp, and recall that keeps rising after the best validation-loss step, per configuration and seed. The last one matters because recall alone would have picked the overfitting configuration's final weights: validation loss (and the best-step checkpoint) is what catches it.</p>${items}`;
}

const COLUMNS: [string, (c: ConfigReport) => [string, string | number | null]][] = [
  ['rank', (c) => [c.rank === null ? '—' : String(c.rank), c.rank]],
  ['configuration', (c) => [`<span class="swatch" style="background:${e(c.color)}"></span>${e(c.name)}`, c.name]],
  ['parameters', (c) => [params(c.params), JSON.stringify(c.params)]],
  [
    'recall rising after best',
    (c) => [
      recallRising(c),
      Object.keys(c.diagnostics.retrieval_final).filter(
        (k) => (c.diagnostics.retrieval_final[k] ?? 0) > (c.diagnostics.retrieval_at_best[k] ?? Infinity),
      ).length,
    ],
  ],
  [
    'objective',
    (c) => [`${num(c.objective.mean)}${c.objective.n > 1 ? ` ± ${num(c.objective.std)}` : ''}`, c.objective.mean],
  ],
  ['best val loss', (c) => [num(c.diagnostics.best_val_loss), c.diagnostics.best_val_loss]],
  ['final gap', (c) => [num(c.diagnostics.final_gap), c.diagnostics.final_gap]],
  ['overfit onset', (c) => [num(c.diagnostics.overfit_onset_step), c.diagnostics.overfit_onset_step]],
  ['scale rebound', (c) => [`${c.diagnostics.scale_rebound_runs}/${c.runs.length}`, c.diagnostics.scale_rebound_runs]],
  ['early stop', (c) => [`${c.diagnostics.early_stop_runs}/${c.runs.length}`, c.diagnostics.early_stop_runs]],
  ['duration', (c) => [duration(c.diagnostics.duration_s), c.diagnostics.duration_s]],
  [
    'status',
    (c) => [
      e(statusText(c.status_counts)) + (c.diagnostics.partial ? ' <span class="tag">partial</span>' : ''),
      statusText(c.status_counts),
    ],
  ],
];

/** Recall@k keys higher at the end than at the best val-loss step (mean over seeds). */
function recallRising(c: ConfigReport): string {
  const d = c.diagnostics;
  const keys = Object.keys(d.retrieval_final)
    .filter((k) => d.retrieval_at_best[k] !== undefined && d.retrieval_final[k]! > d.retrieval_at_best[k]!)
    .sort((a, b) => recallOrder(a) - recallOrder(b));
  if (keys.length === 0) return '—';
  return keys
    .map((k) => `${e(k.replace(/^val\//, ''))} ${num(d.retrieval_at_best[k]!)}→${num(d.retrieval_final[k]!)}`)
    .join('<br>');
}

export function ranking(model: ReportModel): string {
  const head = COLUMNS.map(([name]) => `<th scope="col" tabindex="0">${e(name)}</th>`).join('');
  const constant =
    Object.keys(model.params_constant).length > 0
      ? `<p class="constant">Same in every configuration: ${params(model.params_constant)}</p>`
      : '';
  const rows = model.configurations
    .map(
      (c) =>
        `<tr data-config="${e(c.id)}">${COLUMNS.map(([name, cell]) => {
          const [html, key] =
            name === 'parameters'
              ? [params(pick(c.params, model.params_varying)), JSON.stringify(pick(c.params, model.params_varying))]
              : cell(c);
          return `<td data-sort="${e(key ?? '')}">${html}</td>`;
        }).join('')}</tr>`,
    )
    .join('\n');
  return `${constant}<p class="hint">Click a column header to sort. Parameters: only those that vary across the sweep.</p><table id="ranking" class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export function comparison(model: ReportModel): string {
  const cmp = model.comparison;
  if (!cmp) return '<p class="none">Fewer than two configurations to compare.</p>';
  const configs = cmp.configurations.map((id) => model.configurations.find((c) => c.id === id)!);
  const intro =
    cmp.basis === 'named'
      ? `The sweep's named configurations side by side; deltas are against <b>${e(configs[0]!.name)}</b>.`
      : `The first configuration of the sweep against the best one; deltas are against <b>${e(configs[0]!.name)}</b>.`;
  const head = `<tr><th></th>${configs.map((c) => `<th><span class="swatch" style="background:${e(c.color)}"></span>${e(c.name)}</th>`).join('')}</tr>`;
  const changed = cmp.changed_params
    .map(
      (p) =>
        `<tr class="param"><th>${e(p.key)}</th>${p.values.map((v) => `<td>${e(typeof v === 'string' ? v : JSON.stringify(v))}</td>`).join('')}</tr>`,
    )
    .join('');
  const rows = cmp.rows
    .map((row) => {
      const ref = row.values[0] ?? null;
      const cells = row.values.map((v, i) => {
        if (i === 0 || v === null || ref === null) return `<td>${num(v)}</td>`;
        const delta = v - ref;
        const verdict =
          row.better === null || delta === 0 ? '' : (row.better === 'lower') === delta < 0 ? 'better' : 'worse';
        return `<td class="${verdict}">${num(v)} <small>(${delta > 0 ? '+' : ''}${num(delta)}${verdict ? ', ' + verdict : ''})</small></td>`;
      });
      return `<tr><th>${e(row.label)}</th>${cells.join('')}</tr>`;
    })
    .join('');
  return `<p>${intro} What changed:</p><table class="compare">${head}${changed}${rows}</table>`;
}

export function heatmaps(model: ReportModel): string {
  if (model.heatmaps.length === 0)
    return '<p class="none">Needs numeric lr and batch_size parameters with at least two configurations.</p>';
  const o = model.objective;
  const table = (title: string, lrs: number[], bs: number[], grid: (number | null)[][], lowerBetter: boolean) => {
    const values = grid.flat().filter((v): v is number => v !== null && Number.isFinite(v));
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const rows = bs
      .map(
        (b, r) =>
          `<tr><th>bs ${e(b)}</th>${lrs
            .map((lr, c) => {
              const v = grid[r]?.[c] ?? null;
              if (v === null) return '<td class="na">n/a</td>';
              const t = hi === lo ? 0.5 : (v - lo) / (hi - lo);
              const good = lowerBetter ? 1 - t : t;
              return `<td style="background:${heatColor(good)};color:${good > 0.6 ? '#000' : '#fff'}" title="lr ${e(lr)}, batch ${e(b)}: ${num(v)}">${num(v)}</td>`;
            })
            .join('')}</tr>`,
      )
      .join('');
    return `<table class="heat"><caption>${e(title)}</caption><tr><th></th>${lrs.map((lr) => `<th>lr ${e(lr)}</th>`).join('')}</tr>${rows}</table>`;
  };
  return `<p>Mean over seeds and any other parameter; yellow is better.${o.ranked ? '' : ` ${e(o.key)} is not comparable across batch sizes here.`}</p><div class="heatmaps">${model.heatmaps
    .map(
      (m) =>
        `<div>${table(`${o.key}, warmup ${m.warmup}`, m.lrs, m.batch_sizes, m.objective, o.direction === 'min')}${table(`final gap, warmup ${m.warmup}`, m.lrs, m.batch_sizes, m.final_gap, true)}</div>`,
    )
    .join('')}</div>`;
}

export function runDetails(model: ReportModel): string {
  return model.runs
    .map((r) => {
      const d = r.diagnostics as unknown as Record<string, unknown>;
      const rows = Object.entries(d)
        .map(
          ([k, v]) =>
            `<tr><th>${e(k)}</th><td>${typeof v === 'number' ? num(v) : e(v === null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v))}</td></tr>`,
        )
        .join('');
      const failure = r.diagnostics.failure_reason
        ? `<p class="warning">Failure: ${e(r.diagnostics.failure_reason)}</p>`
        : '';
      const stderr = r.stderr_tail ? `<p>stderr (last lines):</p><pre>${e(r.stderr_tail)}</pre>` : '';
      const origin =
        r.origin === 'random' || r.origin === 'tpe'
          ? ` <span class="tag">${r.origin === 'tpe' ? 'TPE' : 'random start-up'}</span>`
          : '';
      return `<details class="run"><summary><span class="status ${e(r.status)}">${e(r.status)}</span> ${e(r.name)}${origin} <small>${params(r.params)}</small></summary>
${failure}<p>Run id <code>${e(r.id)}</code>, attempt ${r.attempt}, configuration ${e(r.configuration)}; metrics: ${e(r.metrics.join(', ') || 'none')}${r.summary ? `; summary <code>${e(JSON.stringify(r.summary))}</code>` : ''}.</p>${stderr}<table class="diag">${rows}</table></details>`;
    })
    .join('\n');
}

function searchSummary(search: NonNullable<ReportModel['search']>): string {
  const random = search.trials.filter((t) => t.origin === 'random').length;
  const tpe = search.trials.filter((t) => t.origin === 'tpe').length;
  const last = search.trials.at(-1)?.best ?? null;
  const at = last === null ? null : search.trials.find((t) => t.value === last);
  return `<p>TPE search on <code>${e(search.metric)}</code> (${search.mode}): ${random} random start-up run(s), ${tpe} proposed by TPE${
    at
      ? `; best ${num(last!)} at trial ${at.trial} (${e(at.name)}, ${at.origin === 'tpe' ? 'TPE' : e(at.origin ?? 'planned')})`
      : ''
  }. See the chart "Search: best so far over trials".</p>`;
}
