// Replays recorded learning curves through the early-termination decision in simulated time:
// runs start in plan order on free slots, each reveals its points at the times they were
// recorded, and a run the decision stops keeps its slot (and is charged) for `stopLatency`
// seconds more, as a real child does between the decision and its exit.
import type { EarlyTermination } from '../../src/prune/config.js';
import { decidePruning, type PruneDecision, type RunHistory } from '../../src/prune/decide.js';

export interface RecordedPoint {
  step: number;
  value: number;
  /** Seconds after the run's start. */
  at: number;
}

export interface RecordedRun {
  id: string;
  name: string;
  /** Seconds from start to exit in the full sweep. */
  duration: number;
  warmup: number | null;
  points: readonly RecordedPoint[];
}

export interface SimulateOptions {
  slots: number;
  /** Seconds a stopped run still holds its slot: the orchestrator's polling, SIGTERM, checkpoint, exit. */
  stopLatency: number;
  mode: 'min' | 'max';
}

export type StopDecision = Extract<PruneDecision, { action: 'stop' }>;

export interface RunFate {
  id: string;
  start: number;
  /** Child-seconds: from its start to its exit. */
  spent: number;
  /** Seconds spent before its first point: start-up (data, model, a cold cache). */
  beforeFirstPoint: number;
  stop: { at: number; decision: StopDecision } | null;
  /** Best value among the points it recorded before it exited; NaN if none. */
  best: number;
  bestStep: number | null;
}

export interface Simulation {
  spent: number;
  /** When the last run exited. */
  makespan: number;
  runs: RunFate[];
}

export function better(mode: 'min' | 'max', a: number, b: number): boolean {
  if (Number.isNaN(b)) return !Number.isNaN(a);
  return mode === 'max' ? a > b : a < b;
}

export function simulate(
  recorded: readonly RecordedRun[],
  config: EarlyTermination | null,
  options: SimulateOptions,
): Simulation {
  if (!Number.isInteger(options.slots) || options.slots < 1)
    throw new Error(`slots: expected a positive integer, got ${options.slots}`);
  if (!(options.stopLatency >= 0)) throw new Error(`stop latency: expected seconds >= 0, got ${options.stopLatency}`);
  const start = new Map<string, number>();
  const end = new Map<string, number>();
  const stops = new Map<string, { at: number; decision: StopDecision }>();
  const slotOf = new Map<string, number>();
  const slotFreeAt = Array.from({ length: options.slots }, () => 0);
  const queue = [...recorded];
  let active: RecordedRun[] = [];
  let now = 0;

  const launch = (): void => {
    for (let slot = 0; slot < slotFreeAt.length && queue.length > 0; slot++) {
      if (slotFreeAt[slot]! > now) continue;
      const run = queue.shift()!;
      start.set(run.id, now);
      end.set(run.id, now + run.duration);
      slotOf.set(run.id, slot);
      slotFreeAt[slot] = now + run.duration;
      active.push(run);
    }
  };
  const retire = (): void => {
    active = active.filter((run) => end.get(run.id)! > now);
  };
  const visible = (run: RecordedRun): RunHistory['points'] => {
    const t0 = start.get(run.id)!;
    const until = Math.min(now, end.get(run.id)!);
    return run.points.filter((p) => t0 + p.at <= until).map((p) => ({ step: p.step, value: p.value, time: t0 + p.at }));
  };

  launch();
  while (active.length > 0) {
    // The next moment something happens: a run exits, or an active run records a point.
    now = Math.min(
      ...active.flatMap((run) => [
        end.get(run.id)!,
        ...run.points.map((p) => start.get(run.id)! + p.at).filter((t) => t > now),
      ]),
    );
    retire();
    if (config) {
      const histories: RunHistory[] = recorded
        .filter((run) => start.has(run.id))
        .map((run) => ({
          id: run.id,
          running: active.includes(run) && !stops.has(run.id),
          warmupSteps: run.warmup,
          points: visible(run),
        }));
      for (const decision of decidePruning(config, histories)) {
        if (decision.action !== 'stop') continue;
        stops.set(decision.id, { at: now, decision });
        const exit = Math.min(end.get(decision.id)!, now + options.stopLatency);
        end.set(decision.id, exit);
        slotFreeAt[slotOf.get(decision.id)!] = exit;
      }
      retire();
    }
    launch();
  }

  const runs = recorded.map((run): RunFate => {
    const t0 = start.get(run.id)!;
    const spent = end.get(run.id)! - t0;
    const seen = run.points.filter((p) => p.at <= spent);
    const top = seen.reduce<RecordedPoint | null>(
      (b, p) => (b === null || better(options.mode, p.value, b.value) ? p : b),
      null,
    );
    return {
      id: run.id,
      start: t0,
      spent,
      beforeFirstPoint: Math.min(spent, run.points[0]?.at ?? spent),
      stop: stops.get(run.id) ?? null,
      best: top?.value ?? NaN,
      bestStep: top?.step ?? null,
    };
  });
  return { spent: runs.reduce((s, r) => s + r.spent, 0), makespan: Math.max(0, ...[...end.values()]), runs };
}

/**
 * The configuration a sweep reports as its best. `sweep report` ranks every run that was not
 * failed by the best value it recorded, pruned runs included ('reported'); 'finished' ranks only
 * the runs that were not stopped, the stricter reading.
 */
export function winner(sim: Simulation, mode: 'min' | 'max', among: 'reported' | 'finished'): RunFate | null {
  return sim.runs
    .filter((r) => (among === 'reported' || r.stop === null) && !Number.isNaN(r.best))
    .reduce<RunFate | null>((b, r) => (b === null || better(mode, r.best, b.best) ? r : b), null);
}

/**
 * The least any rule that judges first at `grace` steps (after warmup) could spend: every run
 * but `keep` stops at its first point there (plus the stop latency), `keep` runs in full.
 */
export function floorSpent(
  recorded: readonly RecordedRun[],
  grace: number,
  warmupAware: boolean,
  keep: string,
  stopLatency: number,
): number {
  return recorded.reduce((sum, run) => {
    if (run.id === keep) return sum + run.duration;
    const offset = warmupAware ? (run.warmup ?? 0) : 0;
    const first = run.points.find((p) => p.step - offset >= grace);
    return sum + (first ? Math.min(run.duration, first.at + stopLatency) : run.duration);
  }, 0);
}
