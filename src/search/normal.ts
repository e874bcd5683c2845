// The normal distribution's pieces TPE needs, hand-written: no maintained JS package offers a
// log-space Gaussian mass that stays finite in the tails, and the sequence of draws is part of
// what makes a sweep reproducible, so it must not change under a dependency's update.

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/** erf(x) by its Taylor series: accurate to ~1e-15 for |x| < 2.5, where it is used. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** log(erfc(x)) for x >= 0, finite however large x is (a continued fraction without the exp). */
export function logErfc(x: number): number {
  if (x < 2.5) return Math.log1p(-erfSeries(x));
  // erfc(x) = exp(-x^2) / sqrt(pi) / K, K = x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), by Lentz's
  // method: it stops once converged, after about 40 terms at x = 2.5 and fewer beyond.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let j = 1; j < 500; j++) {
    const a = j / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

export function erfc(x: number): number {
  return x >= 0 ? Math.exp(logErfc(x)) : 2 - Math.exp(logErfc(-x));
}

/** log of the standard normal density. */
export function logPhi(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log(Phi(b) - Phi(a)) for a < b: the standard normal's mass on [a, b], in log space. */
export function logGaussMass(a: number, b: number): number {
  // Both tails beyond 8.5 sd hold less than 1e-16 of the mass: the log is 0 to double precision.
  if (a < -8.5 && b > 8.5) return 0;
  if (a >= 0) return logGaussMass(-b, -a);
  if (b <= 0) {
    // Both in the lower tail: Phi(t) = erfc(-t/sqrt2)/2, computed in log space so it never underflows.
    const hi = logErfc(-b / Math.SQRT2);
    const lo = logErfc(-a / Math.SQRT2);
    return Math.log(0.5) + hi + Math.log1p(-Math.exp(lo - hi));
  }
  // Straddles zero: 1 - Phi(a) - (1 - Phi(b)), each tail below 1/2.
  return Math.log1p(-0.5 * Math.exp(logErfc(-a / Math.SQRT2)) - 0.5 * Math.exp(logErfc(b / Math.SQRT2)));
}

/** A standard normal draw (Box-Muller) from a uniform generator on [0, 1). */
export function normal(next: () => number): number {
  const u = 1 - next(); // (0, 1]
  const v = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A draw from N(mu, sigma) truncated to [low, high], by rejection. TPE's kernels are centred
 * inside the range with sigma at most its width, so at least ~19% of draws land inside it; the
 * cap only guards a degenerate kernel (then the nearest bound is returned).
 */
export function truncatedNormal(next: () => number, mu: number, sigma: number, low: number, high: number): number {
  for (let i = 0; i < 1000; i++) {
    const x = mu + sigma * normal(next);
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu));
}

/** log(sum(exp(values))) without overflow. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    // exp(-40) is below double precision next to the largest term (exp(0) = 1): skipped, not computed.
    const d = values[i]! - max;
    if (d > -40) sum += Math.exp(d);
  }
  return max + Math.log(sum);
}
