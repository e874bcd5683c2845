// Early termination as a pure function of the metric histories of all runs: it returns continue
// or stop for each running run; the orchestrator alone acts on it. Steps are counted from the end
// of each run's own warmup (when warmup_aware), so a long warmup is never judged while it warms up.
import type { EarlyTermination } from './config.js';

export interface JudgedPoint {
  step: number;
  value: number;
  /** When the value was measured: ASHA judges a run only against runs that reached a rung before it. */
  time: number;
}

export interface RunHistory {
  id: string;
  running: boolean;
  /** Resolved warmup in steps; null while it cannot be known (a percentage before the total is). */
  warmupSteps: number | null;
  /** The judged metric, sorted by step. */
  points: readonly JudgedPoint[];
}

export type PruneDecision =
  | { id: string; action: 'continue' }
  | {
      id: string;
      action: 'stop';
      rung: number;
      resource: number;
      value: number;
      cutoff: number;
      peers: number;
      reason: string;
    };

export function decidePruning(config: EarlyTermination, runs: readonly RunHistory[]): PruneDecision[] {
  const judged = runs.map((run) => ({ run, points: resources(config, run) }));
  return judged
    .filter(({ run }) => run.running)
    .map(({ run, points }) =>
      config.type === 'asha' ? asha(config, run.id, points, judged) : median(config, run.id, points, judged),
    );
}

interface ResourcePoint extends JudgedPoint {
  resource: number;
}

/** Points with their resource: steps after warmup (or all steps). Empty while the warmup is unknown. */
function resources(config: EarlyTermination, run: RunHistory): ResourcePoint[] {
  if (config.warmup_aware && run.warmupSteps === null) return [];
  const offset = config.warmup_aware ? (run.warmupSteps ?? 0) : 0;
  return run.points.map((p) => ({ ...p, resource: p.step - offset }));
}

/** NaN and the wrong infinity rank last, whatever the mode. */
function score(value: number, mode: 'min' | 'max'): number {
  if (Number.isNaN(value)) return -Infinity;
  return mode === 'max' ? value : -value;
}

type Judged = { run: RunHistory; points: ResourcePoint[] };
type AshaConfig = Extract<EarlyTermination, { type: 'asha' }>;
type MedianConfig = Extract<EarlyTermination, { type: 'median' }>;

/** The first point at or past a milestone: when a run reached that rung, and the value it brings there. */
function arrival(points: ResourcePoint[], milestone: number, config: AshaConfig): JudgedPoint | undefined {
  const index = points.findIndex((p) => p.resource >= milestone);
  if (index < 0) return undefined;
  const at = points[index]!;
  if (config.rung_value === 'latest') return at;
  // Its best value so far: what the run would be worth if it stopped here and kept its best checkpoint.
  const best = points
    .slice(0, index + 1)
    .reduce((b, p) => (score(p.value, config.mode) > score(b.value, config.mode) ? p : b));
  return { step: at.step, time: at.time, value: best.value };
}

function asha(config: AshaConfig, id: string, points: ResourcePoint[], all: Judged[]): PruneDecision {
  for (let rung = 0; ; rung++) {
    const milestone = config.grace * config.reduction ** rung;
    const mine = arrival(points, milestone, config);
    if (!mine) return { id, action: 'continue' };
    // Asynchronous successive halving: compared with the runs that reached this rung first.
    const earlier = all.flatMap(({ run, points: theirs }) => {
      if (run.id === id) return [];
      const at = arrival(theirs, milestone, config);
      return at && (at.time < mine.time || (at.time === mine.time && run.id < id)) ? [at.value] : [];
    });
    const n = earlier.length + 1;
    if (n < config.reduction && config.few_runs === 'continue') continue;
    const ranked = [...earlier, mine.value].map((v) => score(v, config.mode)).sort((a, b) => b - a);
    // With fewer than `reduction` runs there, keep = 1: only the best so far goes on ('best').
    const keep = Math.max(1, Math.floor(n / config.reduction));
    const cutoff = ranked[keep - 1]!;
    if (score(mine.value, config.mode) < cutoff) {
      const cutoffValue = config.mode === 'max' ? cutoff : -cutoff;
      return {
        id,
        action: 'stop',
        rung,
        resource: milestone,
        value: mine.value,
        cutoff: cutoffValue,
        peers: n,
        reason:
          `asha rung ${rung} (${milestone} steps${config.warmup_aware ? ' after warmup' : ''}): ` +
          `${config.rung_value === 'best' ? `best ${config.metric} so far` : config.metric} ${fmt(mine.value)} ` +
          (n < config.reduction
            ? `is not the best of the ${n} runs there so far (fewer than ${config.reduction}; cutoff ${fmt(cutoffValue)})`
            : `is outside the best 1/${config.reduction} of ${n} runs (cutoff ${fmt(cutoffValue)})`),
      };
    }
  }
}

function median(config: MedianConfig, id: string, points: ResourcePoint[], all: Judged[]): PruneDecision {
  const latest = points.at(-1);
  if (!latest || latest.resource < config.grace) return { id, action: 'continue' };
  const best = (ps: ResourcePoint[], upTo: number): number =>
    Math.max(...ps.filter((p) => p.resource <= upTo).map((p) => score(p.value, config.mode)));
  const others = all
    .filter(({ run, points: theirs }) => run.id !== id && theirs.some((p) => p.resource >= latest.resource))
    .map(({ points: theirs }) => best(theirs, latest.resource))
    .sort((a, b) => a - b);
  if (others.length < config.min_runs) return { id, action: 'continue' };
  const mid = others.length / 2;
  const medianScore = others.length % 2 === 1 ? others[Math.floor(mid)]! : (others[mid - 1]! + others[mid]!) / 2;
  const mine = best(points, latest.resource);
  if (mine >= medianScore) return { id, action: 'continue' };
  const medianValue = config.mode === 'max' ? medianScore : -medianScore;
  const mineValue = config.mode === 'max' ? mine : -mine;
  return {
    id,
    action: 'stop',
    rung: 0,
    resource: latest.resource,
    value: mineValue,
    cutoff: medianValue,
    peers: others.length + 1,
    reason: `median rule at ${latest.resource} steps${config.warmup_aware ? ' after warmup' : ''}: best ${config.metric} ${fmt(mineValue)} is worse than the median ${fmt(medianValue)} of ${others.length} other runs`,
  };
}

function fmt(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}
