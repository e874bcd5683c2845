// `npm run bench:search`: clipsweep's TPE against Optuna's TPESampler (Debian's python3-optuna)
// and random search, on the same functions, budgets, noise draws and (for concurrent slots) the
// same simulated run durations. Prints the median best after 10, 25 and 50 trials with a
// bootstrap 95% interval, and the time per proposal at 100 and 1,000 finished trials.
// Flags: --reps N (30), --trials N (50), --no-optuna, --functions a,b (by index), --multivariate,
// --timing-only, --no-timing, --no-liar, --optuna-current, --dump FILE (Debian's Optuna 3.1 patched, in the benchmark's Python
// process only, to propose as the current release 4.9.0 does: see optuna_tpe.py and docs/search.md).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mix } from '../../src/search/propose.js';
import { decode, sampleUniform, type Space } from '../../src/search/space.js';
import { DEFAULT_TPE, propose, type Trial } from '../../src/search/tpe.js';
import { mulberry32 as rng } from '../../src/random/mulberry32.js';
import { normal } from '../../src/search/normal.js';
import { OBJECTIVES, type Objective } from './functions.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const REPS = Number(flag('reps') ?? 30);
const TRIALS = Number(flag('trials') ?? 50);
const CHECKPOINTS = [10, 25, 50].filter((n) => n <= TRIALS);
const WITH_OPTUNA = !args.includes('--no-optuna');
const MULTIVARIATE = args.includes('--multivariate');
const PICKED = flag('functions')?.split(',').map(Number);
const TIMING_ONLY = args.includes('--timing-only');
/** Quality tables only (the long repetition runs do not need the speed table again). */
const NO_TIMING = args.includes('--no-timing');
/** A JSON file for each function's best-after-TRIALS values, per method, slots and repetition. */
const DUMP = flag('dump');
const dumped: Record<string, unknown>[] = [];
/** Pending runs not counted as bad (to measure what the constant liar does with 4 slots). */
const NO_LIAR = args.includes('--no-liar');
/** Optuna 3.1 with the current release's proposal changes patched in (checked before use). */
const OPTUNA_CURRENT = args.includes('--optuna-current');
const OPTUNA_LABEL = OPTUNA_CURRENT ? 'Optuna (3.1 + current-release patches)' : 'Optuna TPESampler';
const PYTHON = '/usr/bin/python3';
const OPTUNA_SCRIPT = fileURLToPath(new URL('../../../bench/search/optuna_tpe.py', import.meta.url));
const CHECK_SCRIPT = fileURLToPath(new URL('../../../bench/search/optuna_current_check.py', import.meta.url));

/** Debian's python3-optuna, installed the way scripts/ensure-test-deps.mjs installs test packages. */
function ensureOptuna(): void {
  const has = (): boolean =>
    existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import optuna'], { stdio: 'ignore' }).status === 0;
  if (has()) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(
      'The benchmark needs Optuna for /usr/bin/python3: run "sudo apt-get install -y python3-optuna" (or pass --no-optuna).',
    );
    process.exit(1);
  }
  console.log('Installing python3-optuna (apt-get)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync(
    'apt-get',
    ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends', 'python3-optuna'],
    { stdio: 'inherit', env },
  );
}

/** The patches must reproduce 4.9.0's densities on the check's cases, or nothing is measured. */
function checkOptunaPatches(): void {
  const check = spawnSync(PYTHON, [CHECK_SCRIPT], { encoding: 'utf8' });
  const lines = `${check.stdout}${check.stderr}`.trim().split('\n');
  if (check.status !== 0) {
    console.error(lines.join('\n'));
    console.error('--optuna-current: the patched Optuna does not match 4.9.0 (see above); nothing was measured.');
    process.exit(1);
  }
  console.log(`${lines.slice(-3).join('\n')}\n`);
}

function optuna(job: Record<string, unknown>): Record<string, unknown> {
  const out = execFileSync(PYTHON, [OPTUNA_SCRIPT], {
    input: JSON.stringify({ ...job, optuna_current: OPTUNA_CURRENT }),
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, unknown>;
}

/** Noise draws and run durations per repetition, shared by every method. */
function tables(fn: number): { noise: number[][]; durations: number[][] } {
  const noise: number[][] = [];
  const durations: number[][] = [];
  for (let r = 0; r < REPS; r++) {
    const next = rng(mix(7919, fn, r));
    noise.push(Array.from({ length: TRIALS }, () => normal(next)));
    durations.push(Array.from({ length: TRIALS }, () => 0.5 + next()));
  }
  return { noise, durations };
}

type Sampler = (
  space: Space,
  trials: Trial[],
  pending: Record<string, unknown>[],
  rep: number,
  index: number,
) => Record<string, unknown>;

const tpe =
  (multivariate: boolean): Sampler =>
  (space, trials, pending, rep, index) =>
    propose(space, trials, pending, { ...DEFAULT_TPE, multivariate, liar: !NO_LIAR }, rng(mix(rep, index))).params;

const random: Sampler = (space, _trials, _pending, rep, index) => {
  const next = rng(mix(rep, index));
  return Object.fromEntries(space.map((dim) => [dim.name, decode(dim, sampleUniform(dim, next))]));
};

/** One repetition on `slots` simulated slots: true values in completion order. */
function simulate(
  obj: Objective,
  sample: Sampler,
  rep: number,
  slots: number,
  noise: number[],
  durations: number[],
): { values: number[]; seen: number[] } {
  const trials: Trial[] = [];
  const order: number[] = []; // the proposal number of each finished trial
  const running: { end: number; index: number; params: Record<string, unknown>; value: number; seen: number }[] = [];
  const values: number[] = [];
  const seen: number[] = [];
  let started = 0;
  const start = (now: number): void => {
    const params = sample(
      obj.space,
      trials,
      [...running].sort((a, b) => a.index - b.index).map((r) => r.params),
      rep,
      started,
    );
    const value = obj.f(params);
    running.push({
      end: now + durations[started]!,
      index: started,
      params,
      value,
      seen: value + obj.noise * noise[started]!,
    });
    started++;
  };
  while (started < Math.min(slots, TRIALS)) start(0);
  while (running.length > 0) {
    running.sort((a, b) => a.end - b.end || a.index - b.index);
    const done = running.shift()!;
    // In proposal order, as the sweep gives them to TPE (toTrials sorts by ordinal) and as Optuna
    // orders trials (by number): the order sets which trials' weights fade.
    const trial: Trial = { params: done.params, state: 'complete', value: done.seen, step: null };
    trials.splice(order.filter((i) => i < done.index).length, 0, trial);
    order.push(done.index);
    values.push(done.value);
    seen.push(done.seen);
    if (started < TRIALS) start(done.end);
  }
  return { values, seen };
}

/** The true value of the configuration with the best observed value among the first n completed. */
function bestAfter(run: { values: number[]; seen: number[] }, n: number): number {
  let best = 0;
  for (let i = 1; i < Math.min(n, run.values.length); i++) if (run.seen[i]! < run.seen[best]!) best = i;
  return run.values[best]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Percentile bootstrap 95% interval of the median (2,000 resamples, fixed seed). */
function bootstrap(xs: number[]): [number, number] {
  const next = rng(12345);
  const meds: number[] = [];
  for (let b = 0; b < 2000; b++) meds.push(median(xs.map(() => xs[Math.floor(next() * xs.length)]!)));
  meds.sort((a, b) => a - b);
  return [meds[49]!, meds[1949]!];
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4));

function main(): void {
  if (WITH_OPTUNA) ensureOptuna();
  if (WITH_OPTUNA && OPTUNA_CURRENT) checkOptunaPatches();
  const methods: { name: string; sample: Sampler | 'optuna' }[] = [
    { name: 'clipsweep TPE', sample: tpe(false) },
    ...(MULTIVARIATE ? [{ name: 'clipsweep TPE (multivariate)', sample: tpe(true) }] : []),
    ...(WITH_OPTUNA ? [{ name: OPTUNA_LABEL, sample: 'optuna' as const }] : []),
    { name: 'random', sample: random },
  ];
  console.log(
    `${REPS} repetitions x ${TRIALS} trials; median best (true value of the best observed) [bootstrap 95% interval]\n`,
  );
  OBJECTIVES.forEach((obj, fn) => {
    if (TIMING_ONLY || (PICKED && !PICKED.includes(fn))) return;
    const { noise, durations } = tables(fn);
    console.log(`### ${obj.name} (optimum ${obj.optimum})\n`);
    console.log(`| method | slots | ${CHECKPOINTS.map((n) => `best after ${n}`).join(' | ')} |`);
    console.log(`| --- | --- | ${CHECKPOINTS.map(() => '---').join(' | ')} |`);
    const finals: { name: string; bySlots: Map<number, number[]> }[] = [];
    for (const method of methods) {
      const bySlots = new Map<number, number[]>();
      finals.push({ name: method.name, bySlots });
      for (const slots of [1, 4]) {
        const t0 = Date.now();
        let runs: { values: number[]; seen: number[] }[];
        if (method.sample === 'optuna') {
          runs = optuna({ mode: 'optimise', function: obj.name, reps: REPS, trials: TRIALS, slots, noise, durations })
            .runs as { values: number[]; seen: number[] }[];
        } else {
          const sample = method.sample;
          runs = Array.from({ length: REPS }, (_, r) => simulate(obj, sample, r, slots, noise[r]!, durations[r]!));
        }
        const cells = CHECKPOINTS.map((n) => {
          const bests = runs.map((run) => bestAfter(run, n));
          const [lo, hi] = bootstrap(bests);
          return `${fmt(median(bests))} [${fmt(lo)}, ${fmt(hi)}]`;
        });
        bySlots.set(
          slots,
          runs.map((run) => bestAfter(run, TRIALS)),
        );
        console.log(`| ${method.name} | ${slots} | ${cells.join(' | ')} |`);
        process.stderr.write(
          `  ${obj.name} / ${method.name} / ${slots} slot(s): ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      }
    }
    console.log('');
    lossTable(finals);
    if (DUMP) dumped[dumped.length - 1]!.function = obj.name;
  });
  if (DUMP) writeFileSync(DUMP, JSON.stringify(dumped));
  if (!NO_TIMING) timing();
}

/**
 * What 4 slots cost against 1 after TRIALS trials: median(4 slots) - median(1 slot) (positive:
 * worse, as every function is minimised), with a bootstrap 95% interval that resamples whole
 * repetitions: a repetition's runs share its noise and durations (and, per method, its seed), so
 * they are resampled together. The last column is the target's test: how much more the first
 * method (clipsweep's TPE) loses than this one, on the same resamples. A difference of medians
 * is noisier than either median: this says whether two losses can be told apart at all.
 */
function lossTable(finals: { name: string; bySlots: Map<number, number[]> }[]): void {
  console.log(
    `| method | 4 slots lose after ${TRIALS} (positive: worse) [bootstrap 95% interval] | ${finals[0]!.name} loses more by |`,
  );
  console.log('| --- | --- | --- |');
  const loss = (m: number, idx: number[]): number => {
    const { bySlots } = finals[m]!;
    return median(idx.map((i) => bySlots.get(4)![i]!)) - median(idx.map((i) => bySlots.get(1)![i]!));
  };
  const all = finals[0]!.bySlots.get(1)!.map((_, i) => i);
  const interval = (stat: (idx: number[]) => number): string => {
    const next = rng(54321);
    const xs: number[] = [];
    for (let b = 0; b < 2000; b++) xs.push(stat(all.map(() => Math.floor(next() * all.length))));
    xs.sort((a, b) => a - b);
    return `${fmt(stat(all))} [${fmt(xs[49]!)}, ${fmt(xs[1949]!)}]`;
  };
  finals.forEach(({ name }, m) => {
    const versus = m === 0 ? '-' : interval((idx) => loss(0, idx) - loss(m, idx));
    console.log(`| ${name} | ${interval((idx) => loss(m, idx))} | ${versus} |`);
  });
  console.log('');
  if (DUMP)
    dumped.push({ finals: finals.map(({ name, bySlots }) => ({ name, bySlots: Object.fromEntries(bySlots) })) });
}

/**
 * Proposals made and not timed before the 20 timed ones, on both sides. At a new history size
 * V8 takes about this many proposals to settle (its young generation grows, its code is
 * re-optimised); with 3, the univariate medians at 1,000 trials were twice the steady ones. A
 * sweep proposing for hours runs in the settled state.
 */
const WARMUP = 20;

/** CPU time per proposal with 100 and 1,000 finished (random) trials, median of 20. */
function timing(): void {
  console.log('### CPU time per proposal (ms, median of 20 [min, max])\n');
  console.log(
    '| function | finished trials | clipsweep TPE | clipsweep TPE (multivariate) |' +
      (WITH_OPTUNA ? ` ${OPTUNA_LABEL} |` : ''),
  );
  console.log('| --- | --- | --- | --- |' + (WITH_OPTUNA ? ' --- |' : ''));
  for (const fn of [1, 3]) {
    const obj = OBJECTIVES[fn]!;
    for (const finished of [100, 1000]) {
      const trials: Trial[] = [];
      for (let i = 0; i < finished; i++) {
        const params = random(obj.space, [], [], 999, i);
        trials.push({ params, state: 'complete', value: obj.f(params), step: null });
      }
      const time = (multivariate: boolean): string => {
        const ms: number[] = [];
        for (let i = 0; i < WARMUP + 20; i++) {
          // CPU time, not wall-clock: this machine is shared, and waiting for a core is not the sampler's cost.
          const t0 = process.cpuUsage();
          propose(obj.space, trials, [], { ...DEFAULT_TPE, multivariate }, rng(i));
          const used = process.cpuUsage(t0);
          if (i >= WARMUP) ms.push((used.user + used.system) / 1000);
        }
        return `${median(ms).toFixed(2)} [${Math.min(...ms).toFixed(2)}, ${Math.max(...ms).toFixed(2)}]`;
      };
      let optunaCell = '';
      if (WITH_OPTUNA) {
        const ms = (optuna({ mode: 'time', function: obj.name, finished, asks: WARMUP + 20 }).ms as number[]).slice(
          WARMUP,
        );
        optunaCell = ` ${median(ms).toFixed(1)} [${Math.min(...ms).toFixed(1)}, ${Math.max(...ms).toFixed(1)}] |`;
      }
      console.log(`| ${obj.name} | ${finished} | ${time(false)} | ${time(true)} |${optunaCell}`);
    }
  }
  if (WITH_OPTUNA)
    console.log(
      `\nOptuna ${String(optuna({ mode: 'time', function: 'Branin', finished: 0, asks: 1 }).version)}${OPTUNA_CURRENT ? ' with the 4.9.0 patches (optuna_tpe.py)' : ''}, ${PYTHON}; Node ${process.version}.`,
    );
}

main();
