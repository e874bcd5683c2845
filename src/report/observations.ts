// The three observations of the seed (../shared/CONTEXT.md) told in words, per configuration and
// seed, from the run diagnostics: overfitting, the logit scale's dip and climb back, and recall
// that keeps rising after the best validation-loss step. Pure; numbers are the diagnostics'.
import type { RunDiagnostics } from './diagnostics.js';
import type { Thresholds } from './options.js';

export interface Observations {
  configuration: string;
  /** One sentence each; they say plainly when the observation did not occur. */
  overfitting: string;
  scale: string;
  recall: string;
  /** Which of the three occurred in at least one seed. */
  occurred: { overfitting: boolean; scale_rebound: boolean; recall_rising: boolean };
}

export interface ObservedRun {
  seed: unknown;
  diagnostics: RunDiagnostics;
}

const f = (v: number | null, digits = 3): string => (v === null ? '—' : Number(v.toPrecision(digits)).toString());
const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

function who(run: ObservedRun, runs: readonly ObservedRun[]): string {
  return runs.length > 1 ? `seed ${String(run.seed ?? '?')}: ` : '';
}

function count(n: number, runs: readonly ObservedRun[]): string {
  return runs.length > 1 ? ` (${n}/${runs.length} seeds)` : '';
}

function overfitting(runs: readonly ObservedRun[], t: Thresholds): [string, boolean] {
  const hits = runs.filter((r) => r.diagnostics.overfit_onset_step !== null);
  const parts = runs.map((r) => {
    const d = r.diagnostics;
    if (d.best_val_step === null) return `${who(r, runs)}no validation loss recorded`;
    const lowest = `validation loss lowest at step ${d.best_val_step} (${f(d.best_val_loss)})`;
    const rose =
      d.val_rise_after_best !== null && d.val_rise_step !== null
        ? `, then rose ${pct(d.val_rise_after_best)} (step ${d.val_rise_step})`
        : ', the last evaluation';
    const train =
      d.train_ref_at_best !== null && d.train_ref_final !== null
        ? ` while the train reference went from ${f(d.train_ref_at_best)} to ${f(d.train_ref_final)}`
        : '';
    const onset = d.overfit_onset_step !== null ? `; overfitting from step ${d.overfit_onset_step}` : '';
    return `${who(r, runs)}${lowest}${rose}${train}${onset}`;
  });
  const head =
    hits.length > 0
      ? `Overfitting${count(hits.length, runs)}: `
      : `No overfitting (validation loss never stayed ${pct(t.overfitRise)} above its best while the train loss kept falling): `;
  return [`${head}${parts.join('; ')}.`, hits.length > 0];
}

function scale(runs: readonly ObservedRun[], t: Thresholds): [string, boolean] {
  const hits = runs.filter((r) => r.diagnostics.scale_rebound);
  const near = t.scaleClamp * (1 - t.reboundTolerance);
  const parts = runs.map((r) => {
    const d = r.diagnostics;
    if (d.scale_min === null || d.scale_start === null) return `${who(r, runs)}no logit scale recorded`;
    const dip = d.scale_dip ?? 0;
    if (dip < t.scaleDip) {
      return `${who(r, runs)}started at ${f(d.scale_start)} and never fell more than ${pct(dip)} below its peak (a dip is ${pct(t.scaleDip)}); lowest ${f(d.scale_min)} at step ${d.scale_min_step}, ended at ${f(d.scale_final)}`;
    }
    const fell = `started at ${f(d.scale_start)}, fell to ${f(d.scale_min)} at step ${d.scale_min_step} (${pct(dip)} below its peak so far)`;
    const back = d.scale_rebound
      ? `, back at ${f(near)} or more by step ${d.scale_rebound_step}`
      : `, and did not climb back to ${f(near)} (ended at ${f(d.scale_final)})`;
    return `${who(r, runs)}${fell}${back}`;
  });
  const head =
    hits.length > 0
      ? `The logit scale dipped and climbed back to the clamp${count(hits.length, runs)}: `
      : 'No scale rebound: ';
  return [`${head}${parts.join('; ')}.`, hits.length > 0];
}

function recall(runs: readonly ObservedRun[]): [string, boolean] {
  const hits = runs.filter((r) => Object.keys(r.diagnostics.recall_rising_after_best).length > 0);
  const parts = runs.map((r) => {
    const d = r.diagnostics;
    const rising = Object.entries(d.recall_rising_after_best).sort(
      ([a], [b]) => recallOrder(a) - recallOrder(b) || (a < b ? -1 : 1),
    );
    if (d.best_val_step === null) return `${who(r, runs)}no validation loss recorded`;
    if (rising.length === 0) return `${who(r, runs)}no recall@k rose after step ${d.best_val_step}`;
    const list = rising.map(([k, v]) => `${k.replace(/^val\//, '')} ${f(v.from)} → ${f(v.to)}`).join(', ');
    return `${who(r, runs)}after the best step (${d.best_val_step}): ${list}`;
  });
  const head =
    hits.length > 0
      ? `Recall kept rising after the best validation-loss step${count(hits.length, runs)}, so recall alone would have picked the overfitted weights: `
      : 'Recall and validation loss agree: ';
  return [`${head}${parts.join('; ')}.`, hits.length > 0];
}

/** i2t before t2i, then by k: R@1, R@5, R@10. */
export function recallOrder(key: string): number {
  const m = /(i2t|t2i)_R@(\d+)$/.exec(key);
  return m ? (m[1] === 'i2t' ? 0 : 1000) + Number(m[2]) : 10_000;
}

export function observe(configuration: string, runs: readonly ObservedRun[], t: Thresholds): Observations {
  const [o, oHit] = overfitting(runs, t);
  const [s, sHit] = scale(runs, t);
  const [r, rHit] = recall(runs);
  return {
    configuration,
    overfitting: o,
    scale: s,
    recall: r,
    occurred: { overfitting: oHit, scale_rebound: sHit, recall_rising: rHit },
  };
}
