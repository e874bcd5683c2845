// npm run bench:prune -- --db runs/sweeps.db --sweep NAME [--metric val/loss --mode min --grace N
//   --reduction 3 --slots 2]: replays a finished sweep's recorded curves through the
// early-termination decision in simulated time (runs start in plan order on free slots; each run
// reveals its points at the times they were recorded) and prints the child-seconds spent with
// ASHA and with the median rule against the full sweep, and whether each finds the same best
// configuration. Figures only.
import { parseArgs } from 'node:util';
import { earlyTerminationSchema, type EarlyTermination } from '../../src/prune/config.js';
import { decidePruning, type RunHistory } from '../../src/prune/decide.js';
import { warmupSteps } from '../../src/orchestrator/pruning.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'runs/sweeps.db' },
    sweep: { type: 'string' },
    metric: { type: 'string', default: 'val/loss' },
    mode: { type: 'string', default: 'min' },
    grace: { type: 'string' },
    reduction: { type: 'string', default: '3' },
    slots: { type: 'string', default: '2' },
  },
});

interface Recorded {
  id: string;
  name: string;
  duration: number;
  warmup: number | null;
  points: { step: number; value: number; at: number }[];
}

const store = SqliteStore.open(args.db!, { readonly: true });
const sweep = args.sweep ? store.getSweep(args.sweep) : store.latestSweep()!;
const recorded: Recorded[] = store
  .listRuns(sweep.pk)
  .filter((r) => r.status === 'completed' && r.startedAt !== null && r.endedAt !== null)
  .map((r) => ({
    id: r.id,
    name: r.name,
    duration: r.endedAt! - r.startedAt!,
    warmup: warmupSteps(r.params.warmup, r.totalSteps),
    points: store.series(r.pk, args.metric!).map((p) => ({ step: p.step, value: p.value, at: (p.time ?? r.endedAt!) - r.startedAt! })),
  }))
  .filter((r) => r.points.length > 0);
store.close();
if (recorded.length === 0) throw new Error(`no completed run of ${sweep.name} has ${args.metric}`);

const better = (a: number, b: number): boolean => (args.mode === 'max' ? a > b : a < b);
const bestOf = (points: { value: number }[]): number => points.reduce((best, p) => (better(p.value, best) ? p.value : best), args.mode === 'max' ? -Infinity : Infinity);

/** Simulates the sweep on `slots` slots; returns each run's (possibly cut) duration and points. */
function simulate(config: EarlyTermination | null, slots: number): { spent: number; kept: Map<string, { pruned: boolean; best: number }> } {
  const start = new Map<string, number>();
  const end = new Map<string, number>();
  const pruned = new Set<string>();
  const free = Array.from({ length: slots }, () => 0);
  const queue = [...recorded];
  const running: Recorded[] = [];
  let now = 0;
  const launch = () => {
    for (let s = 0; s < free.length && queue.length > 0; s++) {
      if (free[s]! <= now) {
        const run = queue.shift()!;
        start.set(run.id, now);
        end.set(run.id, now + run.duration);
        free[s] = now + run.duration;
        running.push(run);
      }
    }
  };
  launch();
  while (running.length > 0) {
    // The next moment something happens: a run ends, or a running run records a point.
    const candidates = running.flatMap((r) => [end.get(r.id)!, ...r.points.map((p) => start.get(r.id)! + p.at).filter((t) => t > now)]);
    now = Math.min(...candidates);
    for (const run of [...running]) {
      if (end.get(run.id)! <= now) running.splice(running.indexOf(run), 1);
    }
    if (config) {
      const histories: RunHistory[] = recorded
        .filter((r) => start.has(r.id))
        .map((r) => ({
          id: r.id,
          running: running.includes(r),
          warmupSteps: r.warmup,
          points: r.points.filter((p) => start.get(r.id)! + p.at <= Math.min(now, end.get(r.id)!)).map((p) => ({ step: p.step, value: p.value, time: start.get(r.id)! + p.at })),
        }));
      for (const decision of decidePruning(config, histories)) {
        if (decision.action !== 'stop') continue;
        const run = recorded.find((r) => r.id === decision.id)!;
        pruned.add(run.id);
        const slot = free.indexOf(end.get(run.id)!);
        end.set(run.id, now);
        if (slot >= 0) free[slot] = now;
        running.splice(running.indexOf(run), 1);
      }
    }
    launch();
  }
  const kept = new Map<string, { pruned: boolean; best: number }>();
  let spent = 0;
  for (const run of recorded) {
    const cut = end.get(run.id)! - start.get(run.id)!;
    spent += cut;
    kept.set(run.id, { pruned: pruned.has(run.id), best: bestOf(run.points.filter((p) => p.at <= cut)) });
  }
  return { spent, kept };
}

const slots = Number(args.slots);
const full = simulate(null, slots);
const winner = (result: ReturnType<typeof simulate>, onlyFinished: boolean) =>
  [...result.kept].filter(([, k]) => !onlyFinished || !k.pruned).reduce((a, b) => (better(b[1].best, a[1].best) ? b : a));
const [fullBestId, fullBest] = winner(full, false);
const nameOf = (id: string) => recorded.find((r) => r.id === id)!.name;
const grace = Number(args.grace ?? Math.max(1, Math.round(Math.min(...recorded.map((r) => r.points.at(-1)!.step)) / 9)));
console.log(`sweep ${sweep.name}: ${recorded.length} completed runs with ${args.metric}, replayed on ${slots} slots`);
console.log(`full sweep: ${full.spent.toFixed(0)} child-seconds; best ${nameOf(fullBestId)} (${args.metric} ${fullBest.best.toPrecision(4)})`);
for (const type of ['asha', 'median'] as const) {
  const config = earlyTerminationSchema.parse({ type, metric: args.metric, mode: args.mode, grace, ...(type === 'asha' ? { reduction: Number(args.reduction) } : {}) });
  const result = simulate(config, slots);
  const [bestId, best] = winner(result, true);
  const gap = Math.abs(best.best - fullBest.best) / Math.abs(fullBest.best);
  const prunedCount = [...result.kept.values()].filter((k) => k.pruned).length;
  console.log(
    `${type} (grace ${grace} steps after warmup): ${result.spent.toFixed(0)} child-seconds (${(100 * (1 - result.spent / full.spent)).toFixed(1)}% saved), ${prunedCount} pruned; best ${nameOf(bestId)} ${bestId === fullBestId ? '(the same)' : `(${(100 * gap).toFixed(2)}% from the full sweep's best)`}`,
  );
}
