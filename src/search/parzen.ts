// Parzen estimators as TPE uses them (Bergstra et al. 2011; Optuna's present defaults): one
// kernel per observed trial plus a prior kernel, in a weighted mixture. A numeric parameter's
// kernel is a normal truncated to its range (in log space for a log range; an integer gets the
// mass of its unit interval), centred on the observation, as wide as the larger gap to its
// neighbours; a categorical kernel puts extra mass on the observed choice.
import { logGaussMass, logPhi, logSumExp, truncatedNormal } from './normal.js';
import { widened, type Dimension } from './space.js';

export interface ParzenSettings {
  /** Weight of the prior kernel against an observation's (Optuna: 1). */
  priorWeight: number;
  /** Keep kernels at least range / min(100, 1 + kernels) wide (Optuna's "magic clip"). */
  magicClip: boolean;
  /** Let the outermost kernels' width reach to the range's ends (Optuna: false). */
  endpoints: boolean;
}

export const DEFAULT_PARZEN: ParzenSettings = { priorWeight: 1, magicClip: true, endpoints: false };

type Component =
  | {
      kind: 'numeric';
      dim: Dimension & { kind: 'numeric' };
      low: number;
      high: number;
      mus: Float64Array;
      sigmas: Float64Array;
      logNorms: Float64Array;
      /** Per kernel, precomputed for speed: 1/sigma, and -log(sigma sqrt(2 pi)) - log(its mass in range). */
      inverse: Float64Array;
      offsets: Float64Array;
    }
  | { kind: 'categorical'; probs: Float64Array[]; logProbs: Float64Array[] };

/** A mixture over `dims` jointly: kernel k is the product of each dimension's kernel k. */
export class ParzenEstimator {
  readonly logWeights: Float64Array;
  private readonly cumulative: Float64Array;
  private readonly components: Component[];
  /** Reused by logPdf: one buffer per estimator instead of one per candidate. */
  private readonly scratch: Float64Array;

  /**
   * @param columns one per dimension: every trial's encoded value (see space.ts), in trial order
   * @param weights one per trial (not normalised); the prior's is appended here
   */
  constructor(
    readonly dims: readonly Dimension[],
    columns: readonly (readonly number[])[],
    weights: readonly number[],
    settings: ParzenSettings,
  ) {
    const all = weights.length === 0 ? [1] : [...weights, settings.priorWeight];
    const total = all.reduce((a, b) => a + b, 0);
    this.logWeights = Float64Array.from(all, (w) => Math.log(w / total));
    this.scratch = new Float64Array(all.length);
    let running = 0;
    this.cumulative = Float64Array.from(all, (w) => (running += w / total));
    this.components = dims.map((dim, d) =>
      dim.kind === 'categorical'
        ? categorical(dim.choices.length, columns[d] ?? [], settings)
        : numeric(dim, columns[d] ?? [], settings),
    );
  }

  get kernels(): number {
    return this.logWeights.length;
  }

  /** Kernel centres and widths of dimension `d` in its working space (log for a log range). */
  numericKernels(d: number): { mus: Float64Array; sigmas: Float64Array } {
    const c = this.components[d]!;
    if (c.kind !== 'numeric') throw new Error(`dimension ${d} is categorical`);
    return { mus: c.mus, sigmas: c.sigmas };
  }

  /** Choice probabilities of dimension `d`, one row per kernel. */
  categoricalKernels(d: number): Float64Array[] {
    const c = this.components[d]!;
    if (c.kind !== 'categorical') throw new Error(`dimension ${d} is numeric`);
    return c.probs;
  }

  /** `n` draws, each an encoded row (a number in range, or a choice's index). */
  sample(next: () => number, n: number): number[][] {
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) {
      const u = next();
      let k = 0;
      while (k < this.cumulative.length - 1 && this.cumulative[k]! <= u) k++;
      rows.push(
        this.components.map((c) => (c.kind === 'categorical' ? pick(c.probs[k]!, next()) : drawNumeric(c, k, next))),
      );
    }
    return rows;
  }

  /** log density (or mass, for integers and choices) of an encoded row under the mixture. */
  logPdf(row: readonly number[]): number {
    const terms = this.scratch;
    terms.set(this.logWeights);
    this.components.forEach((c, d) => {
      const x = row[d]!;
      if (c.kind === 'categorical') {
        for (let k = 0; k < terms.length; k++) terms[k]! += c.logProbs[k]![x]!;
        return;
      }
      if (c.dim.int) {
        const left = Math.max(c.low, c.dim.log ? Math.log(x - 0.5) : x - 0.5);
        const right = Math.min(c.high, c.dim.log ? Math.log(x + 0.5) : x + 0.5);
        for (let k = 0; k < terms.length; k++) {
          const mu = c.mus[k]!;
          const inv = c.inverse[k]!;
          const a = (left - mu) * inv;
          const b = (right - mu) * inv;
          // Beyond 10 sd a kernel's mass is below exp(-53), far under the prior kernel's (which
          // spans the range): it cannot change the sum in double precision, so it is not computed.
          if (a > 10 || b < -10) terms[k] = -Infinity;
          else terms[k]! += logGaussMass(a, b) - c.logNorms[k]!;
        }
        return;
      }
      const t = c.dim.log ? Math.log(x) : x;
      for (let k = 0; k < terms.length; k++) {
        const z = (t - c.mus[k]!) * c.inverse[k]!;
        terms[k]! += c.offsets[k]! - 0.5 * z * z;
      }
    });
    return logSumExp(terms);
  }
}

function numeric(dim: Dimension & { kind: 'numeric' }, values: readonly number[], settings: ParzenSettings): Component {
  const [wlow, whigh] = widened(dim);
  const low = dim.log ? Math.log(wlow) : wlow;
  const high = dim.log ? Math.log(whigh) : whigh;
  const n = values.length;
  const observed = Float64Array.from(values, (v) => (dim.log ? Math.log(v) : v));
  const mus = new Float64Array(n + 1);
  const sigmas = new Float64Array(n + 1);
  // Each kernel is as wide as the larger gap to its sorted neighbours (the range's ends count as
  // neighbours); without `endpoints` the outermost kernels use their inner gap only.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => observed[a]! - observed[b]! || a - b);
  const at = (j: number): number => (j === 0 ? low : j === n + 1 ? high : observed[order[j - 1]!]!); // j-th of low, sorted..., high
  const minSigma = settings.magicClip ? (high - low) / Math.min(100, 1 + (n + 1)) : 1e-12;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    let sigma = Math.max(at(j + 1) - at(j), at(j + 2) - at(j + 1));
    if (!settings.endpoints && n >= 2) {
      if (j === 0) sigma = at(2) - at(1);
      else if (j === n - 1) sigma = at(n) - at(n - 1);
    }
    mus[i] = observed[i]!;
    sigmas[i] = Math.min(high - low, Math.max(minSigma, sigma));
  }
  mus[n] = 0.5 * (low + high);
  sigmas[n] = high - low;
  const logNorms = Float64Array.from(mus, (mu, k) => logGaussMass((low - mu) / sigmas[k]!, (high - mu) / sigmas[k]!));
  const inverse = sigmas.map((sigma) => 1 / sigma);
  const offsets = Float64Array.from(sigmas, (sigma, k) => logPhi(0) - Math.log(sigma) - logNorms[k]!);
  return { kind: 'numeric', dim, low, high, mus, sigmas, logNorms, inverse, offsets };
}

function categorical(choices: number, observed: readonly number[], settings: ParzenSettings): Component {
  if (observed.length === 0) {
    const uniform = new Float64Array(choices).fill(1 / choices);
    return { kind: 'categorical', probs: [uniform], logProbs: [uniform.map(Math.log)] };
  }
  // Optuna spreads the prior's weight over every kernel's row, then normalises each row.
  const kernels = observed.length + 1;
  const probs: Float64Array[] = [];
  for (let k = 0; k < kernels; k++) {
    const row = new Float64Array(choices).fill(settings.priorWeight / kernels);
    if (k < observed.length) row[observed[k]!]! += 1;
    const sum = row.reduce((a, b) => a + b, 0);
    probs.push(sum > 0 ? row.map((p) => p / sum) : row.fill(1 / choices));
  }
  return { kind: 'categorical', probs, logProbs: probs.map((row) => row.map(Math.log)) };
}

function pick(probs: Float64Array, u: number): number {
  let acc = 0;
  for (let i = 0; i < probs.length - 1; i++) if (u < (acc += probs[i]!)) return i;
  return probs.length - 1;
}

function drawNumeric(c: Component & { kind: 'numeric' }, k: number, next: () => number): number {
  const t = truncatedNormal(next, c.mus[k]!, c.sigmas[k]!, c.low, c.high);
  const x = c.dim.log ? Math.exp(t) : t;
  return c.dim.int
    ? Math.min(c.dim.high, Math.max(c.dim.low, Math.round(x)))
    : Math.min(c.dim.high, Math.max(c.dim.low, x));
}
