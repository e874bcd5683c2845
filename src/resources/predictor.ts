// How much GPU memory a run will need, from what runs of the same trainer were measured to use:
// 1. the peak of runs with the same parameters apart from the seed;
// 2. else a fit over batch size from measured runs of the same model (least squares, never below
//    a smaller batch's peak nor above a larger batch's);
// 3. else unknown: the run starts alone on the emptiest GPU and is measured.
// An out-of-memory attempt teaches a lower bound: the memory it had was not enough.
// Pure state: the orchestrator feeds it measurements (from the store, then live).

export interface Prediction {
  /** Predicted peak in MiB; null when unknown. */
  mib: number | null;
  basis: 'same-params' | 'batch-fit' | 'unknown';
  /** The least it needs, proved by out-of-memory attempts (0 when none). */
  atLeastMiB: number;
}

export interface PredictorOptions {
  /** Parameters that do not change memory (default: seed). */
  ignore?: readonly string[];
  /** The parameter the fit runs over (default: batch_size). */
  batchKey?: string;
  /** The parameter naming the model (default: model). */
  modelKey?: string;
  /** A fitted prediction is raised by this fraction (default 0.05): a fit is an estimate. */
  fitHeadroom?: number;
}

/** Stable text of the parameters apart from the ignored ones: runs alike in memory share it. */
export function memoryKey(params: Record<string, unknown>, ignore: readonly string[] = ['seed']): string {
  const kept = Object.keys(params)
    .filter((key) => !ignore.includes(key))
    .sort()
    .map((key) => [key, params[key]]);
  return JSON.stringify(kept);
}

export class MemoryPredictor {
  private readonly ignore: readonly string[];
  private readonly batchKey: string;
  private readonly modelKey: string;
  private readonly headroom: number;
  /** Peak by memory key (the largest seen). */
  private readonly peaks = new Map<string, number>();
  /** Per model: batch size -> largest peak measured at it. */
  private readonly byBatch = new Map<string, Map<number, number>>();
  private readonly atLeast = new Map<string, number>();

  constructor(options: PredictorOptions = {}) {
    this.ignore = options.ignore ?? ['seed'];
    this.batchKey = options.batchKey ?? 'batch_size';
    this.modelKey = options.modelKey ?? 'model';
    this.headroom = options.fitHeadroom ?? 0.05;
  }

  /** A run's measured peak (a completed or early-stopped run). */
  learn(params: Record<string, unknown>, peakMiB: number): void {
    if (!(peakMiB > 0)) return;
    const key = memoryKey(params, this.ignore);
    this.peaks.set(key, Math.max(this.peaks.get(key) ?? 0, peakMiB));
    const batch = this.batchOf(params);
    if (batch === null) return;
    const model = String(params[this.modelKey] ?? '');
    const points = this.byBatch.get(model) ?? new Map<number, number>();
    points.set(batch, Math.max(points.get(batch) ?? 0, peakMiB));
    this.byBatch.set(model, points);
  }

  /** A run ran out of memory with `hadMiB` available: it needs more than that. */
  learnOom(params: Record<string, unknown>, hadMiB: number): void {
    const key = memoryKey(params, this.ignore);
    this.atLeast.set(key, Math.max(this.atLeast.get(key) ?? 0, hadMiB));
  }

  predict(params: Record<string, unknown>): Prediction {
    const key = memoryKey(params, this.ignore);
    const atLeastMiB = this.atLeast.get(key) ?? 0;
    const same = this.peaks.get(key);
    // A measured peak under a proved lower bound is stale (the run changed): the bound wins.
    if (same !== undefined && same > atLeastMiB) return { mib: same, basis: 'same-params', atLeastMiB };
    const fitted = this.fit(params);
    if (fitted !== null && fitted > atLeastMiB) return { mib: fitted, basis: 'batch-fit', atLeastMiB };
    return { mib: null, basis: 'unknown', atLeastMiB };
  }

  private batchOf(params: Record<string, unknown>): number | null {
    const value = params[this.batchKey];
    return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
  }

  private fit(params: Record<string, unknown>): number | null {
    const batch = this.batchOf(params);
    const points = this.byBatch.get(String(params[this.modelKey] ?? ''));
    if (batch === null || points === undefined || points.size === 0) return null;
    // Memory grows with the batch: a run measured at a batch at least as large bounds it above.
    let bound = Infinity;
    for (const [b, peak] of points) if (b >= batch) bound = Math.min(bound, peak);
    if (points.size < 2) return Number.isFinite(bound) ? bound : null;
    const xs = [...points.keys()];
    const ys = [...points.values()];
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < xs.length; i++) {
      sxy += (xs[i]! - mx) * (ys[i]! - my);
      sxx += (xs[i]! - mx) ** 2;
    }
    const slope = sxx === 0 ? 0 : Math.max(0, sxy / sxx);
    const line = (my + slope * (batch - mx)) * (1 + this.headroom);
    // Never below what a smaller batch was measured to need.
    let floor = 0;
    for (const [b, peak] of points) if (b <= batch) floor = Math.max(floor, peak);
    return Math.min(Math.max(line, floor), bound);
  }
}
