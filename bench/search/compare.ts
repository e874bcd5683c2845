// clipsweep's TPE and Optuna's TPESampler on identical histories: what each proposes next, and
// whether the two score Optuna's own candidates alike. The benchmark (run.ts) compares where whole
// searches end; this looks at single proposals, where the two samplers' models can be told apart.
// For each function and history size, the history is a clipsweep search's first n trials (with
// the next 3 proposals pending, for the 4-slot case); each sampler then proposes once per seed.
// Prints, per case: how far the proposals land from the history's best trial (mean, in range
// units), the largest difference between Optuna's log l(x), log g(x) and clipsweep's on
// Optuna's candidates, and the proposals' noise-free value (mean, median, share that beat the
// history's best) for both. Flags: --seeds N (200), --optuna-current, --functions a,b.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mix } from '../../src/search/propose.js';
import { mulberry32 as rng } from '../../src/random/mulberry32.js';
import { ParzenEstimator } from '../../src/search/parzen.js';
import { encode } from '../../src/search/space.js';
import { DEFAULT_TPE, propose, splitColumns, type Trial } from '../../src/search/tpe.js';
import { normal } from '../../src/search/normal.js';
import { OBJECTIVES, type Objective } from './functions.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const SEEDS = Number(flag('seeds') ?? 200);
const OPTUNA_CURRENT = args.includes('--optuna-current');
const PICKED = flag('functions')?.split(',').map(Number) ?? [0, 1, 3];
const SCRIPT = fileURLToPath(new URL('../../../bench/search/optuna_tpe.py', import.meta.url));

interface Candidates {
  name: string;
  x: number[];
  log_l: number[];
  log_g: number[];
}

/** A clipsweep search's first n finished trials (sequential) and its next `pending` proposals. */
function history(
  obj: Objective,
  fn: number,
  n: number,
  pending: number,
): { trials: Trial[]; pending: Record<string, unknown>[] } {
  const trials: Trial[] = [];
  const noise = rng(mix(4242, fn));
  const proposals: Record<string, unknown>[] = [];
  for (let i = 0; i < n + pending; i++) {
    const params = propose(obj.space, trials, [], DEFAULT_TPE, rng(mix(31337, fn, i))).params;
    if (i < n) trials.push({ params, state: 'complete', value: obj.f(params) + obj.noise * normal(noise), step: null });
    else proposals.push(params);
  }
  return { trials, pending: proposals };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (v: number): string => (Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4));

function main(): void {
  console.log(
    `Proposals on identical histories, ${SEEDS} seeds each; Optuna ${OPTUNA_CURRENT ? '3.1 + current-release patches' : '3.1'}.\n`,
  );
  console.log(
    '| function | finished | pending | mean distance to the best trial: clipsweep / Optuna | max abs diff log l, log g: no ties / ties | clipsweep: mean, median f, beats best | Optuna: mean, median f, beats best |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const fn of PICKED) {
    const obj = OBJECTIVES[fn]!;
    for (const n of [12, 25, 49]) {
      for (const nPending of [0, 3]) {
        const { trials, pending } = history(obj, fn, n, nPending);
        const best = Math.min(...trials.map((t) => obj.f(t.params)));
        // How far a proposal lands from the history's best-looking trial (what the sampler saw),
        // in range units (log for a log range; a categorical counts 0 when equal, 1 when not).
        const leader = trials.reduce((a, b) => (b.value < a.value ? b : a)).params;
        const distance = (p: Record<string, unknown>): number =>
          Math.sqrt(
            obj.space.reduce((sum, dim) => {
              if (dim.kind === 'categorical') return sum + (p[dim.name] === leader[dim.name] ? 0 : 1);
              const at = (v: unknown): number => (dim.log ? Math.log(v as number) : (v as number));
              const range = dim.log ? Math.log(dim.high / dim.low) : dim.high - dim.low;
              return sum + ((at(p[dim.name]) - at(leader[dim.name])) / range) ** 2;
            }, 0),
          );
        const settings = { ...DEFAULT_TPE, liar: nPending > 0 };
        const ourProposals = Array.from(
          { length: SEEDS },
          (_, s) => propose(obj.space, trials, pending, settings, rng(mix(99, s))).params,
        );
        const ours = ourProposals.map((p) => obj.f(p));
        const out = JSON.parse(
          execFileSync('/usr/bin/python3', [SCRIPT], {
            input: JSON.stringify({
              mode: 'proposals',
              function: obj.name,
              history: trials.map((t) => ({ params: t.params, value: t.value })),
              pending,
              seeds: SEEDS,
              optuna_current: OPTUNA_CURRENT,
            }),
            maxBuffer: 1 << 28,
            encoding: 'utf8',
          }),
        ) as { proposals: Record<string, unknown>[]; candidates: Candidates[][] };
        const theirs = out.proposals.map((p) => obj.f(p));
        // clipsweep's estimators, per parameter, on the same split, scoring Optuna's candidates.
        const { below, above, nBelow, nAbove } = splitColumns(obj.space, trials, pending, settings);
        const estimators = obj.space.map((dim, d) => ({
          good: new ParzenEstimator([dim], [below[d]!], settings.weights(nBelow), settings),
          bad: new ParzenEstimator([dim], [above[d]!], settings.weights(nAbove), settings),
        }));
        // Where a column holds equal values, which of them gets which gap (width) depends on the
        // sort: Optuna's numpy argsort is not stable past 16 values, clipsweep's is. With fading
        // weights (past 25 trials in a group) that moves mass between old and new trials. So the
        // differences are kept apart by whether the parameter's history has ties.
        const tied = new Set(
          obj.space
            .filter(
              (dim) =>
                dim.kind === 'numeric' && new Set(trials.map((t) => String(t.params[dim.name]))).size < trials.length,
            )
            .map((dim) => dim.name),
        );
        const worst = { untied: 0, tied: 0 };
        for (const perSeed of out.candidates) {
          for (const c of perSeed) {
            const d = obj.space.findIndex((dim) => dim.name === c.name);
            const dim = obj.space[d]!;
            c.x.forEach((x, i) => {
              const row = [dim.kind === 'categorical' ? x : encode(dim, x)!];
              const key = tied.has(c.name) ? 'tied' : 'untied';
              worst[key] = Math.max(
                worst[key],
                Math.abs(estimators[d]!.good.logPdf(row) - c.log_l[i]!),
                Math.abs(estimators[d]!.bad.logPdf(row) - c.log_g[i]!),
              );
            });
          }
        }
        const cell = (fs: number[]): string =>
          `${fmt(mean(fs))}, ${fmt(median(fs))}, ${((100 * fs.filter((v) => v < best).length) / fs.length).toFixed(0)}%`;
        const far = (ps: Record<string, unknown>[]): string => mean(ps.map(distance)).toFixed(3);
        console.log(
          `| ${obj.name} | ${n} | ${nPending} | ${far(ourProposals)} / ${far(out.proposals)} | ${worst.untied.toExponential(1)} / ${tied.size > 0 ? worst.tied.toExponential(1) : '-'} | ${cell(ours)} | ${cell(theirs)} |`,
        );
      }
    }
  }
}

main();
