// Runs that depend on results: a search that proposes the next configuration when a slot frees
// (TPE today). Pure: what it proposes depends only on the sweep file and the runs given to it,
// so the same seed and the same finished runs always give the same proposals, and a resumed
// sweep continues where it stopped (every proposed run, whatever its state, counts toward
// `samples` and is never proposed again).
import { fixedFromGrid, spaceFromGrid, type Space } from './space.js';
import { DEFAULT_TPE, propose, type TpeSettings, type Trial } from './tpe.js';
import { gridName, runId, type RunSpec } from '../sweep-file/expand.js';
import type { SweepSpec } from '../sweep-file/load.js';
import { mulberry32 as rng } from '../random/mulberry32.js';
import type { RunOrigin, RunStatus } from '../store/types.js';

/** What a proposer knows of a run of the sweep, in the order the runs were registered. */
export interface KnownRun {
  id: string;
  params: Record<string, unknown>;
  origin: RunOrigin | null;
  status: RunStatus;
  ordinal: number;
  /** completed: its best value of the objective; pruned: its last one; null when it never reported it. */
  value: number | null;
  /** The step of a pruned run's last value. */
  step: number | null;
}

export interface Proposer {
  /** The next run to register and run, or null when the search has proposed all it will. */
  next(runs: readonly KnownRun[]): RunSpec | null;
  /** How many runs the search will still propose (for progress). */
  remaining(runs: readonly KnownRun[]): number;
}

const PROPOSED: ReadonlySet<RunOrigin | null> = new Set(['random', 'tpe']);
/** Fresh draws tried when a proposal repeats a run already registered (a small categorical space). */
const REDRAWS = 32;

export function createProposer(spec: SweepSpec): Proposer | null {
  const search = spec.search;
  if (search.strategy !== 'tpe' || spec.grid === undefined) return null;
  const space: Space = spaceFromGrid(spec.grid);
  const fixed = fixedFromGrid(spec.grid);
  const samples = search.samples ?? 0;
  const settings: TpeSettings = {
    ...DEFAULT_TPE,
    mode: search.mode ?? 'min',
    startup: search.startup,
    multivariate: search.multivariate,
  };
  const seed = spec.seeds?.[0];
  const proposedCount = (runs: readonly KnownRun[]): number => runs.filter((r) => PROPOSED.has(r.origin)).length;
  return {
    remaining: (runs) => Math.max(0, samples - proposedCount(runs)),
    next(runs) {
      const index = proposedCount(runs);
      if (index >= samples) return null;
      const trials = toTrials(runs);
      const pending = runs.filter((r) => r.status === 'queued' || r.status === 'running').map((r) => r.params);
      const known = new Set(runs.map((r) => r.id));
      const ordinal = runs.reduce((max, r) => Math.max(max, r.ordinal), -1) + 1;
      for (let redraw = 0; redraw < REDRAWS; redraw++) {
        // One generator per proposal, seeded by the search's seed and the proposal's number: the
        // proposal does not depend on how many draws earlier ones took, or on which process made them.
        const next = rng(mix(search.seed, index, redraw));
        const proposal = propose(space, trials, pending, settings, next);
        const point = { ...fixed, ...proposal.params };
        const params = { ...spec.base, ...point, ...(seed !== undefined ? { seed } : {}) };
        const id = runId(params);
        if (known.has(id)) continue;
        return { id, name: gridName(point), params, origin: proposal.origin, ordinal };
      }
      return null; // every draw repeated a run: the space is (nearly) exhausted
    },
  };
}

/** Finished runs as TPE's trials: completed ones by their best value, pruned ones by their last. */
export function toTrials(runs: readonly KnownRun[]): Trial[] {
  const trials: Trial[] = [];
  for (const run of [...runs].sort((a, b) => a.ordinal - b.ordinal)) {
    if (run.value === null) continue;
    if (run.status === 'completed')
      trials.push({ params: run.params, state: 'complete', value: run.value, step: null });
    else if (run.status === 'pruned')
      trials.push({ params: run.params, state: 'pruned', value: run.value, step: run.step });
  }
  return trials;
}

/** A 32-bit seed from the search's seed, the proposal's number and the redraw (murmur3's finaliser). */
export function mix(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
