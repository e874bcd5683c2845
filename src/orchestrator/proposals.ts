// Feeds a search (src/search/propose.ts) the sweep's runs and their results from the store, and
// registers what it proposes. The objective of a TPE search is each completed run's best value of
// `metric` (as the report ranks), or a pruned run's last value; a metric that no finished run
// reports stops the search and fails the sweep with a clear message once the runs in flight end.
import { SpecError } from '../errors.js';
import type { KnownRun, Proposer } from '../search/propose.js';
import type { RunSpec } from '../sweep-file/expand.js';
import type { SweepSpec } from '../sweep-file/load.js';
import type { SweepStore } from '../store/index.js';
import type { RunRecord } from '../store/types.js';
import type { SweepEvent } from './events.js';

export interface ProposalContext {
  spec: SweepSpec;
  store: SweepStore;
  sweepPk: number;
  /** The sweep's planned runs, read afresh from the store. */
  planRuns: () => Iterable<RunRecord>;
  register: (run: RunSpec) => void;
  onEvent: (event: SweepEvent) => void;
}

export interface Proposals {
  /** Registers the next proposal and returns its key; null when the search is done (or stopped). */
  propose: () => number | null;
  remaining: () => number;
  /** Throws when the search stopped because its objective is never reported. */
  check: () => void;
}

export function proposals(proposer: Proposer, context: ProposalContext): Proposals {
  const { spec, store, sweepPk } = context;
  const metric = spec.search.metric ?? '';
  const mode = spec.search.mode ?? 'min';
  let problem: string | null = null;

  const known = (): KnownRun[] => {
    const outcomes = store.metricOutcomes(sweepPk, metric);
    return [...context.planRuns()].map((run) => {
      const o = outcomes.get(run.pk);
      const value = o === undefined ? null : run.status === 'pruned' ? o.last : mode === 'min' ? o.min : o.max;
      return {
        id: run.id,
        params: run.params,
        origin: run.origin,
        status: run.status,
        ordinal: run.ordinal,
        value: value === null || (Number.isNaN(value) && run.status !== 'pruned') ? null : value,
        step: o?.lastStep ?? null,
      };
    });
  };

  /** Runs completed, yet none reported the objective: the trainer does not write it. */
  const missingObjective = (runs: readonly KnownRun[]): string | null => {
    const completed = runs.filter((r) => r.status === 'completed');
    if (completed.length === 0 || runs.some((r) => r.value !== null)) return null;
    const first = [...context.planRuns()].find((r) => r.status === 'completed');
    const recorded = first === undefined ? [] : store.metricKeys(first.pk);
    return `search.metric: ${completed.length} run(s) completed and none reported "${metric}"; recorded: ${recorded.length > 0 ? recorded.join(', ') : 'nothing'}`;
  };

  return {
    remaining: () => proposer.remaining(known()),
    propose: () => {
      if (problem !== null) return null;
      const runs = known();
      problem = missingObjective(runs);
      if (problem !== null) {
        context.onEvent({ type: 'warning', message: `${spec.file}: ${problem}; no more runs are proposed` });
        return null;
      }
      const run = proposer.next(runs);
      if (run === null) return null;
      context.register(run);
      return store.findRunPk(sweepPk, run.id) ?? null;
    },
    check: () => {
      if (problem !== null) throw new SpecError(spec.file, [problem]);
    },
  };
}
