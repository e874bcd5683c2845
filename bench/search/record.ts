// Writes bench/search/recorded.json, the table behind the benchmark's lr x batch x warmup
// surrogate: each run of a recorded sweep of bench/search/recorded-sweep.yaml (the built-in
// trainer) with its parameters and its best val/loss, as `sweep report` ranks runs.
//   node dist/bench/search/record.js --db FILE [--sweep search-surrogate-recording] [--peek]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openReader } from '../../src/store/index.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const db = flag('db');
if (db === undefined) {
  console.error('usage: node dist/bench/search/record.js --db FILE [--sweep NAME]');
  process.exit(2);
}
const name = flag('sweep') ?? 'search-surrogate-recording';
/** Print what is recorded so far instead of writing the file (while the sweep runs). */
const PEEK = args.includes('--peek');
const out = fileURLToPath(new URL('../../../bench/search/recorded.json', import.meta.url));

const reader = openReader(db);
try {
  const sweep = reader.getSweep(name);
  const outcomes = reader.metricOutcomes(sweep.pk, 'val/loss');
  const runs = reader.listRuns(sweep.pk).flatMap((run) => {
    const o = outcomes.get(run.pk);
    if (PEEK && (run.status !== 'completed' || o === undefined)) return [];
    if (run.status !== 'completed' || o === undefined)
      throw new Error(
        `run ${run.name} is ${run.status}${o === undefined ? ' without val/loss' : ''}: record every run first`,
      );
    return {
      lr: run.params.lr as number,
      batch_size: run.params.batch_size as number,
      warmup: run.params.warmup as number,
      best_val_loss: o.min,
      duration_s: run.startedAt !== null && run.endedAt !== null ? Math.round(run.endedAt - run.startedAt) : null,
    };
  });
  if (PEEK) {
    for (const r of runs) console.log(JSON.stringify(r));
    process.exit(0);
  }
  const base = reader.listRuns(sweep.pk)[0]?.params ?? {};
  const record = {
    description:
      'Best val/loss of each run of bench/search/recorded-sweep.yaml on the built-in trainer (the sweep file says how it was run)',
    sweep: name,
    trainer: 'builtin',
    steps: base.steps,
    recorded_at: new Date(sweep.createdAt).toISOString(),
    runs,
  };
  writeFileSync(out, `${JSON.stringify(record, null, 1)}\n`);
  console.log(`wrote ${out}: ${runs.length} runs`);
} finally {
  reader.close();
}
