// Feeds the pure early-termination decision (src/prune/) with the store's metric histories.
import type { EarlyTermination } from '../prune/config.js';
import { decidePruning, type PruneDecision, type RunHistory } from '../prune/decide.js';
import type { StoreReader } from '../store/interfaces.js';
import type { RunRecord } from '../store/types.js';
import { parseWarmup, warmupSteps } from '../protocol/warmup.js';

/** A run's warmup in steps: a number, or "N%" of its total steps once the trainer has said it. */
export function runWarmupSteps(warmup: unknown, totalSteps: number | null): number | null {
  const parsed = parseWarmup(warmup);
  return parsed === null ? 0 : warmupSteps(parsed, totalSteps);
}

export function pruneDecisions(
  store: Pick<StoreReader, 'series'>,
  config: EarlyTermination,
  runs: readonly RunRecord[],
  runningHere: ReadonlySet<number>,
): Map<number, Extract<PruneDecision, { action: 'stop' }>> {
  const byId = new Map(runs.map((run) => [run.id, run]));
  const histories: RunHistory[] = runs.map((run) => ({
    id: run.id,
    running: runningHere.has(run.pk),
    warmupSteps: runWarmupSteps(run.params.warmup, run.totalSteps),
    points: store.series(run.pk, config.metric).map((p) => ({ step: p.step, value: p.value, time: p.time ?? 0 })),
  }));
  const stops = new Map<number, Extract<PruneDecision, { action: 'stop' }>>();
  for (const decision of decidePruning(config, histories)) {
    if (decision.action === 'stop') stops.set(byId.get(decision.id)!.pk, decision);
  }
  return stops;
}

type StopDecision = Extract<PruneDecision, { action: 'stop' }>;

/**
 * The orchestrator's side of early termination: gives each running run its own abort signal,
 * re-evaluates the decision when new values of the judged metric arrive (at most every
 * `everyMs`), and stops the runs it says to stop. The decision itself stays pure.
 */
export class PruneLoop {
  readonly decisions = new Map<number, StopDecision>();
  private readonly active = new Map<number, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private lastRun = 0;

  constructor(
    private readonly store: Pick<StoreReader, 'series'>,
    private readonly config: EarlyTermination,
    private readonly loadRuns: () => RunRecord[],
    private readonly onStop: (runPk: number, decision: StopDecision) => void,
    private readonly everyMs = 500,
  ) {}

  /** The run's own signal: aborted when the run is pruned. */
  track(runPk: number): AbortSignal {
    const controller = new AbortController();
    this.active.set(runPk, controller);
    return controller.signal;
  }

  untrack(runPk: number): void {
    this.active.delete(runPk);
  }

  notify(keys: Iterable<string>): void {
    if (![...keys].includes(this.config.metric) || this.timer) return;
    const wait = Math.max(0, this.lastRun + this.everyMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.evaluate();
    }, wait);
  }

  evaluate(): void {
    this.lastRun = Date.now();
    const running = new Set([...this.active.keys()].filter((pk) => !this.decisions.has(pk)));
    if (running.size === 0) return;
    for (const [runPk, decision] of pruneDecisions(this.store, this.config, this.loadRuns(), running)) {
      if (!running.has(runPk)) continue;
      this.decisions.set(runPk, decision);
      this.onStop(runPk, decision);
      this.active.get(runPk)?.abort();
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
