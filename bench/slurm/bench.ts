// Submission and tracking overhead through a real SLURM: N trivial runs (/bin/true) through
// runSweep with the SLURM executor. Prints runs/s and the scheduler calls per minute at steady
// state (the controller is shared: polling must stay cheap). Asserts nothing.
//   node dist/bench/slurm/bench.js [runs=200] [max_parallel=32] [poll_ms=1000]
// Needs a running SLURM (sudo test/slurm/start.sh).
import { mkdtempSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlurmExecutor } from '../../src/executor/slurm/executor.js';
import { runSweep } from '../../src/orchestrator/run-sweep.js';
import { planSweep } from '../../src/sweep-file/expand.js';
import { parseSweep } from '../../src/sweep-file/load.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const [runsArg, parallelArg, pollArg] = process.argv.slice(2).map(Number);
const N = runsArg || 200;
const parallel = parallelArg || 32;
const pollMs = pollArg || 1000;

const dir = mkdtempSync(join(tmpdir(), 'clipsweep-bench-slurm-'));
const spec = parseSweep(
  `name: bench-slurm\ntrainer: { command: [/bin/true] }\ngrid: { i: [${Array.from({ length: N }, (_, i) => i).join(',')}] }\nresources: { executor: slurm, gpus_per_run: 0 }\n`,
  join(dir, 'bench.yaml'),
);
const plan = planSweep(spec, { force: true });
const executor = new SlurmExecutor({ gpusPerRun: 0, sbatchArgs: [], maxParallel: parallel, pollMs });
const store = SqliteStore.open(join(dir, 'sweeps.db'));

let ended = 0;
const samples: { t: number; ended: number; polls: number }[] = [];
const polls = (): number => executor.cli.calls.squeue + executor.cli.calls.sacct;
const start = performance.now();
const summary = await runSweep({
  spec,
  specRecord: {},
  specHash: 'bench',
  plan,
  store,
  executor,
  runsDir: join(dir, 'runs'),
  policy: { retryFailed: true, retryInfeasible: false, rerun: false },
  signal: new AbortController().signal,
  onEvent: (event) => {
    if (event.type !== 'run-end') return;
    ended++;
    samples.push({ t: performance.now(), ended, polls: polls() });
  },
  jobContext: { nodePath: process.execPath, home: homedir(), specDir: dir },
  host: hostname(),
  pid: process.pid,
  pollMs: 500,
});
const wall = (performance.now() - start) / 1000;
store.close();

// Steady state: between a quarter and three quarters of the runs ended (no ramp-up, no tail).
if (samples.length < 8)
  throw new Error(`only ${samples.length} runs ended: is SLURM running (sudo test/slurm/start.sh)?`);
const a = samples[Math.floor(samples.length / 4)]!;
const b = samples[Math.floor((3 * samples.length) / 4)]!;
const minutes = (b.t - a.t) / 60_000;
const calls = executor.cli.calls;
console.log(`SLURM executor: ${N} trivial runs, max_parallel ${parallel}, poll_interval ${pollMs} ms`);
console.log(
  `  completed ${summary.completed}, failed ${summary.failed}, wall ${wall.toFixed(1)} s, ${(N / wall).toFixed(2)} runs/s`,
);
console.log(`  calls: sbatch ${calls.sbatch}, squeue ${calls.squeue}, sacct ${calls.sacct}, scancel ${calls.scancel}`);
console.log(
  `  steady state: ${((b.polls - a.polls) / minutes).toFixed(1)} squeue+sacct calls/min (${(((b.polls - a.polls) / minutes) * (pollMs / 60_000)).toFixed(2)} per poll interval) while ${((b.ended - a.ended) / minutes).toFixed(0)} runs/min ended`,
);
console.log(`  runs folder: ${dir}`);
