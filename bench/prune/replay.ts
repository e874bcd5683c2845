// npm run bench:prune -- --db runs/sweeps.db --sweep NAME [--spec SWEEP.yaml] [--rule asha|median]
//   [--grace N --reduction 3 --few-runs continue|best --min-runs 3] [--metric val/loss --mode min]
//   [--slots 2 --stop-latency 1] [--trace]
// Replays a finished full sweep's recorded curves through the early-termination decision in
// simulated time (bench/prune/simulate.ts) and prints the child-seconds spent against the full
// sweep, and whether the sweep still finds the full sweep's best configuration. The rule is the
// spec's early_termination (--spec), then any flags given; without either, ASHA and the median
// rule with the same grace. Figures only.
import { parseArgs } from 'node:util';
import { earlyTerminationSchema, type EarlyTermination } from '../../src/prune/config.js';
import { runWarmupSteps } from '../../src/orchestrator/pruning.js';
import { loadSweepFile } from '../../src/sweep-file/load.js';
import { openReader } from '../../src/store/index.js';
import { floorSpent, simulate, winner, type RecordedRun, type Simulation } from './simulate.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'runs/sweeps.db' },
    sweep: { type: 'string' },
    spec: { type: 'string' },
    rule: { type: 'string' },
    metric: { type: 'string' },
    mode: { type: 'string' },
    grace: { type: 'string' },
    reduction: { type: 'string' },
    'few-runs': { type: 'string' },
    'rung-value': { type: 'string' },
    'min-runs': { type: 'string' },
    slots: { type: 'string', default: '2' },
    'stop-latency': { type: 'string', default: '1' },
    trace: { type: 'boolean', default: false },
  },
});

function numberArg(
  name: string,
  raw: string | undefined,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new Error(`--${name}: expected ${expected}, got "${raw}"`);
  return n;
}

const fromSpec = args.spec ? loadSweepFile(args.spec).earlyTermination : undefined;
if (args.spec && !fromSpec) throw new Error(`--spec ${args.spec}: the sweep file has no early_termination section`);
const metric = args.metric ?? fromSpec?.metric ?? 'val/loss';
const mode = args.mode ?? fromSpec?.mode ?? 'min';
if (mode !== 'min' && mode !== 'max') throw new Error(`--mode: expected min or max, got "${mode}"`);
const slots = numberArg('slots', args.slots, (n) => Number.isInteger(n) && n > 0, 'a positive integer')!;
const stopLatency = numberArg('stop-latency', args['stop-latency'], (n) => n >= 0, 'seconds >= 0')!;

const store = openReader(args.db!);
const sweep = args.sweep ? store.getSweep(args.sweep) : store.latestSweep();
if (!sweep) throw new Error(`--db ${args.db}: no sweep recorded`);
const recorded: RecordedRun[] = store
  .listRuns(sweep.pk)
  .filter((r) => r.status === 'completed' && r.startedAt !== null && r.endedAt !== null)
  .map((r) => ({
    id: r.id,
    name: r.name,
    duration: r.endedAt! - r.startedAt!,
    warmup: runWarmupSteps(r.params.warmup, r.totalSteps),
    points: store
      .series(r.pk, metric)
      .map((p) => ({ step: p.step, value: p.value, at: (p.time ?? r.endedAt!) - r.startedAt! })),
  }))
  .filter((r) => r.points.length > 0);
store.close();
if (recorded.length === 0) throw new Error(`sweep ${sweep.name}: no completed run recorded ${metric}`);

/** The rules to replay: the spec's, the flags on top; the default grace is a ninth of the shortest run. */
function rules(): EarlyTermination[] {
  const shortest = Math.min(...recorded.map((r) => r.points.at(-1)!.step));
  const types = args.rule ? [args.rule] : fromSpec ? [fromSpec.type] : ['asha', 'median'];
  return types.map((type) => {
    const base: Record<string, unknown> = fromSpec && fromSpec.type === type ? { ...fromSpec } : { type, metric, mode };
    const flags: Record<string, unknown> = {
      metric,
      mode,
      grace:
        numberArg('grace', args.grace, (n) => n > 0, 'a positive number of steps') ??
        base['grace'] ??
        Math.max(1, Math.round(shortest / 9)),
    };
    if (type === 'asha') {
      const reduction = numberArg('reduction', args.reduction, (n) => n > 1, 'a number > 1');
      if (reduction !== undefined) flags['reduction'] = reduction;
      if (args['few-runs'] !== undefined) flags['few_runs'] = args['few-runs'];
      if (args['rung-value'] !== undefined) flags['rung_value'] = args['rung-value'];
    } else {
      const minRuns = numberArg(
        'min-runs',
        args['min-runs'],
        (n) => Number.isInteger(n) && n > 0,
        'a positive integer',
      );
      if (minRuns !== undefined) flags['min_runs'] = minRuns;
    }
    // The alternative of that type, so that a bad flag is named rather than "invalid input".
    const schema = earlyTerminationSchema.options.find((option) => option.shape.type.value === type);
    if (!schema) throw new Error(`--rule: expected asha or median, got "${type}"`);
    const parsed = schema.safeParse({ ...base, ...flags });
    if (!parsed.success)
      throw new Error(
        `early termination ${JSON.stringify({ ...base, ...flags })}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data;
  });
}

const nameOf = (id: string): string => recorded.find((r) => r.id === id)!.name;
const pct = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1)}%`;

function describe(config: EarlyTermination): string {
  const extra =
    config.type === 'asha'
      ? `reduction ${config.reduction}, few_runs ${config.few_runs}, rung_value ${config.rung_value}`
      : `min_runs ${config.min_runs}`;
  return `${config.type} (grace ${config.grace} steps${config.warmup_aware ? ' after warmup' : ''}, ${extra})`;
}

/** How many runs reached each ASHA rung before they exited, and how many were stopped there. */
function rungCounts(config: EarlyTermination, sim: Simulation): string {
  if (config.type !== 'asha') return '';
  const parts: string[] = [];
  for (let rung = 0; ; rung++) {
    const milestone = config.grace * config.reduction ** rung;
    const reached = sim.runs.filter((fate) => {
      const run = recorded.find((r) => r.id === fate.id)!;
      const offset = config.warmup_aware ? (run.warmup ?? 0) : 0;
      return run.points.some((p) => p.step - offset >= milestone && p.at <= fate.spent);
    }).length;
    if (reached === 0) break;
    parts.push(
      `rung ${rung} (${milestone} steps): ${reached} reached, ${sim.runs.filter((r) => r.stop?.decision.rung === rung).length} stopped`,
    );
  }
  return `  ${parts.join('; ')}`;
}

function trace(sim: Simulation): void {
  console.log('  run                        start  spent  first-pt  fate');
  for (const r of [...sim.runs].sort((a, b) => a.start - b.start)) {
    const fate = r.stop
      ? `pruned at ${r.stop.at.toFixed(0)}s: rung ${r.stop.decision.rung}, ${r.stop.decision.value.toPrecision(4)} vs cutoff ${r.stop.decision.cutoff.toPrecision(4)} of ${r.stop.decision.peers}`
      : 'finished';
    console.log(
      `  ${nameOf(r.id).padEnd(26)} ${r.start.toFixed(0).padStart(5)} ${r.spent.toFixed(0).padStart(6)} ${r.beforeFirstPoint.toFixed(0).padStart(9)}  ${fate}; best ${r.best.toPrecision(4)}@${r.bestStep}`,
    );
  }
  const finished = sim.runs.filter((r) => r.stop === null);
  const startup = sim.runs.reduce((s, r) => s + r.beforeFirstPoint, 0);
  console.log(
    `  where it went: ${startup.toFixed(0)} s before first points (${pct(startup, sim.spent)}), ` +
      `${finished.reduce((s, r) => s + r.spent, 0).toFixed(0)} s in ${finished.length} runs that finished, ` +
      `${(sim.spent - finished.reduce((s, r) => s + r.spent, 0)).toFixed(0)} s in ${sim.runs.length - finished.length} pruned runs`,
  );
}

const full = simulate(recorded, null, { slots, stopLatency, mode });
const fullBest = winner(full, mode, 'finished')!;
console.log(
  `sweep ${sweep.name}: ${recorded.length} completed runs with ${metric}, replayed on ${slots} slots, stop latency ${stopLatency} s`,
);
console.log(
  `full sweep: ${full.spent.toFixed(0)} child-seconds; best ${nameOf(fullBest.id)} (${metric} ${fullBest.best.toPrecision(4)} at step ${fullBest.bestStep})`,
);
for (const config of rules()) {
  const sim = simulate(recorded, config, { slots, stopLatency, mode });
  const verdict = (among: 'reported' | 'finished'): string => {
    const best = winner(sim, mode, among);
    if (!best) return 'none';
    if (best.id === fullBest.id) return `${nameOf(best.id)} (the same)`;
    return `${nameOf(best.id)} (${((100 * Math.abs(best.best - fullBest.best)) / Math.abs(fullBest.best)).toFixed(2)}% from the full sweep's best)`;
  };
  const pruned = sim.runs.filter((r) => r.stop !== null).length;
  console.log(
    `${describe(config)}: ${sim.spent.toFixed(0)} child-seconds (${(100 * (1 - sim.spent / full.spent)).toFixed(1)}% saved), ${pruned} pruned; ` +
      `best of the finished runs: ${verdict('finished')}; best as reported (pruned runs rank by what they reached): ${verdict('reported')}`,
  );
  const floor = floorSpent(recorded, config.grace, config.warmup_aware, fullBest.id, stopLatency);
  console.log(
    `  floor: ${floor.toFixed(0)} child-seconds (${(100 * (1 - floor / full.spent)).toFixed(1)}% saved) if every run but the best stopped at its first point ${config.grace} steps${config.warmup_aware ? ' after warmup' : ''}`,
  );
  if (args.trace) {
    console.log(rungCounts(config, sim));
    trace(sim);
  }
}
