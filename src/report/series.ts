// Numeric helpers over one series (parallel step/value arrays). Diagnostics run on full data;
// only drawing uses the reduced forms below.

export interface Series {
  steps: number[];
  values: number[];
}

/** Reduced series for drawing: x, y and, for a band across seeds, lo/hi. */
export interface DrawSeries {
  x: number[];
  y: number[];
  lo?: number[];
  hi?: number[];
}

/**
 * Largest-triangle-three-buckets (Steinarsson 2013), written here (30 lines) rather than pulled in
 * as a dependency. Unlike plain striding it keeps spikes and dips, which is exactly what a report
 * about divergence and logit-scale dips must not smooth away. Non-finite points are dropped first:
 * they are reported as diagnostics (divergence), not drawn.
 */
export function lttb(steps: ArrayLike<number>, values: ArrayLike<number>, threshold: number): DrawSeries {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      xs.push(steps[i]!);
      ys.push(v);
    }
  }
  const n = xs.length;
  if (threshold >= n || threshold < 3) return { x: xs, y: ys };
  const outX = [xs[0]!];
  const outY = [ys[0]!];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // Average of the next bucket: the third corner of the triangle.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const count = Math.max(nextEnd - nextStart, 1);
    avgX /= count;
    avgY /= count;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((xs[a]! - avgX) * (ys[j]! - ys[a]!) - (xs[a]! - xs[j]!) * (avgY - ys[a]!));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    outX.push(xs[best]!);
    outY.push(ys[best]!);
    a = best;
  }
  outX.push(xs[n - 1]!);
  outY.push(ys[n - 1]!);
  return { x: outX, y: outY };
}

/** Trailing mean over the last `window` logged points (noisy per-batch train loss). NaN stays NaN. */
export function trailingMean(values: ArrayLike<number>, window: number): number[] {
  const out = new Array<number>(values.length);
  let sum = 0;
  let count = 0;
  let poisoned = 0; // non-finite values inside the window
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    } else poisoned++;
    if (i >= window) {
      const old = values[i - window]!;
      if (Number.isFinite(old)) {
        sum -= old;
        count--;
      } else poisoned--;
    }
    out[i] = poisoned > 0 || count === 0 ? NaN : sum / count;
  }
  return out;
}

/** Index of the last point with step <= `step`, or -1. Steps are sorted ascending. */
export function indexAtOrBefore(steps: ArrayLike<number>, step: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! <= step) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Mean across seeds with a min..max band. Each seed is first averaged into `buckets` equal step
 * buckets over [0, maxStep], so seeds logging at different steps still line up.
 */
export function seedBand(members: readonly Series[], buckets: number): DrawSeries {
  let maxStep = 0;
  for (const m of members) if (m.steps.length > 0) maxStep = Math.max(maxStep, m.steps[m.steps.length - 1]!);
  const width = Math.max(1, Math.ceil((maxStep + 1) / buckets));
  const perSeed = members.map((m) => {
    const sum = new Map<number, { s: number; v: number; n: number }>();
    for (let i = 0; i < m.steps.length; i++) {
      const v = m.values[i]!;
      if (!Number.isFinite(v)) continue;
      const b = Math.floor(m.steps[i]! / width);
      const cell = sum.get(b) ?? { s: 0, v: 0, n: 0 };
      cell.s += m.steps[i]!;
      cell.v += v;
      cell.n++;
      sum.set(b, cell);
    }
    return sum;
  });
  const keys = [...new Set(perSeed.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const out: Required<DrawSeries> = { x: [], y: [], lo: [], hi: [] };
  for (const b of keys) {
    const cells = perSeed.map((m) => m.get(b)).filter((c) => c !== undefined);
    const means = cells.map((c) => c.v / c.n);
    out.x.push(Math.round(cells.reduce((s, c) => s + c.s / c.n, 0) / cells.length));
    out.y.push(means.reduce((s, v) => s + v, 0) / means.length);
    out.lo.push(Math.min(...means));
    out.hi.push(Math.max(...means));
  }
  return out;
}

/** Rounds to 4 significant digits: enough to draw, and it keeps the embedded JSON small. */
export function round4(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : v;
}

export function mean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? NaN : finite.reduce((s, v) => s + v, 0) / finite.length;
}

export function std(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return 0;
  const m = mean(finite);
  return Math.sqrt(finite.reduce((s, v) => s + (v - m) ** 2, 0) / (finite.length - 1));
}
