"""Checks --optuna-current's patches (optuna_tpe.py) before the benchmark trusts them: on small
hand-made observation sets, Debian's Optuna 3.1 `_ParzenEstimator`, patched, must give the log
density that Optuna 4.9.0's estimator gives. The reference below is a re-derivation of 4.9.0's
`parzen_estimator.py` and `probability_distributions.py` (read at tag v4.9.0) in plain Python,
written for this check: one weighted kernel per observation plus a prior kernel; widths from the
gaps between sorted observations; truncated normals with their -log(sigma); integers as interval
masses; categorical rows with the prior spread over every row. Exits non-zero on a mismatch.
Run: /usr/bin/python3 bench/search/optuna_current_check.py (run.ts runs it for --optuna-current).
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optuna_tpe  # noqa: E402  (the patches live there)
from optuna.distributions import CategoricalDistribution  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402
from optuna.distributions import IntDistribution  # noqa: E402
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator  # noqa: E402
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimatorParameters  # noqa: E402
from optuna.samplers._tpe.sampler import default_weights  # noqa: E402


def phi_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def log_mass(a, b):
    """log(Phi(b) - Phi(a)), on the side of 0 where the difference does not cancel."""
    if a > 0:
        a, b = -b, -a
    return math.log(phi_cdf(b) - phi_cdf(a))


def reference_log_pdf(space, observations, x, multivariate):
    """4.9.0's log l(x) for `observations` (dict: name -> list, internal values) at point x."""
    n = len(next(iter(observations.values())))
    w = list(default_weights(n)) + [1.0] if n > 0 else [1.0]
    total = sum(w)
    terms = [math.log(v / total) for v in w]  # one per kernel, the prior last
    kernels = n + 1 if n > 0 else 1
    for name, dist in space.items():
        obs = observations[name]
        if isinstance(dist, CategoricalDistribution):
            k = len(dist.choices)
            for j in range(kernels):
                if n == 0:
                    row = [1.0 / k] * k
                else:
                    row = [1.0 / kernels] * k
                    if j < n:
                        row[int(obs[j])] += 1
                    s = sum(row)
                    row = [r / s for r in row]
                terms[j] += math.log(row[int(x[name])])
            continue
        step = 1.0 if isinstance(dist, IntDistribution) else None
        low, high = dist.low - (step or 0) / 2, dist.high + (step or 0) / 2
        log = dist.log
        if log:
            low, high = math.log(low), math.log(high)
        mus = [math.log(v) if log else v for v in obs]
        if multivariate:
            sigmas = [0.2 * max(n, 1) ** (-1.0 / (len(space) + 4)) * (high - low)] * n
        else:
            order = sorted(range(n), key=lambda i: mus[i])  # no ties in these cases
            ordered = [low] + [mus[i] for i in order] + [high]
            sigmas = [0.0] * n
            for r, i in enumerate(order):
                sigmas[i] = max(ordered[r + 1] - ordered[r], ordered[r + 2] - ordered[r + 1])
            if n >= 2:  # consider_endpoints=False: the outermost use their inner gap
                sigmas[order[0]] = ordered[2] - ordered[1]
                sigmas[order[-1]] = ordered[-2] - ordered[-3]
        smallest = (high - low) / min(100.0, n + 2.0)
        sigmas = [min(high - low, max(smallest, s)) for s in sigmas]
        mus = mus + [0.5 * (low + high)]
        sigmas = sigmas + [high - low]
        for j in range(kernels):
            mu, sd = mus[j], sigmas[j]
            norm = log_mass((low - mu) / sd, (high - mu) / sd)
            if step is None:
                t = math.log(x[name]) if log else x[name]
                z = (t - mu) / sd
                terms[j] += -0.5 * z * z - 0.5 * math.log(2 * math.pi) - math.log(sd) - norm
            else:
                terms[j] += log_mass((x[name] - 0.5 - mu) / sd, (x[name] + 0.5 - mu) / sd) - norm
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


def optuna_log_pdf(space, observations, xs, multivariate):
    params = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, multivariate)
    mpe = _ParzenEstimator({k: np.asarray(v, dtype=float) for k, v in observations.items()}, space, params)
    # Choices as indices (ints, as the sampler's own draws are), numbers as floats.
    kind = {k: int if isinstance(d, CategoricalDistribution) else float for k, d in space.items()}
    return mpe.log_pdf({k: np.asarray([x[k] for x in xs], dtype=kind[k]) for k in space})


UNIT = {"x": FloatDistribution(0.0, 1.0)}
CASES = [
    # (label, space, observations, points, multivariate)
    ("one float observation", UNIT, {"x": [0.3]}, [0.0, 0.3, 0.55, 1.0], False),
    ("five floats in [0, 1]", UNIT, {"x": [0.1, 0.15, 0.5, 0.52, 0.9]}, [0.05, 0.12, 0.5, 0.7, 0.99], False),
    ("no observation (prior only)", UNIT, {"x": []}, [0.2, 0.5], False),
    ("Branin's x1 range", {"x": FloatDistribution(-5.0, 10.0)}, {"x": [-4.0, 3.1, 9.5]}, [-5.0, 0.0, 3.0, 9.9], False),
    ("log float", {"lr": FloatDistribution(1e-5, 3e-3, log=True)}, {"lr": [2e-5, 1e-4, 7e-4, 2.5e-3]},
     [1e-5, 5e-5, 7e-4, 3e-3], False),
    ("integer", {"w": IntDistribution(0, 30)}, {"w": [0, 3, 17, 30]}, [0, 1, 16, 29, 30], False),
    ("categorical", {"b": CategoricalDistribution([16, 32, 64])}, {"b": [0, 2, 2, 1]}, [0, 1, 2], False),
    ("30 floats (fading weights)", UNIT, {"x": [((i * 37) % 101) / 101 for i in range(30)]}, [0.02, 0.4, 0.77], False),
]
MIXED = {"lr": FloatDistribution(1e-5, 3e-3, log=True), "b": CategoricalDistribution([16, 32, 64]),
         "w": IntDistribution(0, 30)}
MIXED_OBS = {"lr": [2e-5, 1e-4, 7e-4, 2.5e-3, 3e-4], "b": [0, 2, 2, 1, 1], "w": [0, 3, 17, 30, 12]}
MIXED_XS = [{"lr": 1e-4, "b": 2, "w": 3}, {"lr": 2e-3, "b": 0, "w": 29}, {"lr": 3e-3, "b": 1, "w": 0}]
CASES.append(("multivariate, mixed", MIXED, MIXED_OBS, MIXED_XS, True))
H = {f"x{j}": FloatDistribution(0.0, 1.0) for j in range(3)}
H_OBS = {f"x{j}": [((i * (7 + j)) % 13) / 13 for i in range(8)] for j in range(3)}
CASES.append(("multivariate, 3 floats", H, H_OBS, [{"x0": 0.1, "x1": 0.5, "x2": 0.9}, {"x0": 0.6, "x1": 0.6, "x2": 0.6}], True))


def count_mismatches():
    """How many points of CASES differ from 4.9.0 (by more than 1e-6) under the present patches."""
    bad = 0
    for _, space, obs, points, multivariate in CASES:
        xs = [p if isinstance(p, dict) else {next(iter(space)): p} for p in points]
        got = optuna_log_pdf(space, obs, xs, multivariate)
        bad += sum(abs(g - reference_log_pdf(space, obs, x, multivariate)) > 1e-6 for x, g in zip(xs, got))
    return bad


def run_cases():
    worst = 0.0
    for label, space, obs, points, multivariate in CASES:
        xs = [p if isinstance(p, dict) else {next(iter(space)): p} for p in points]
        got = optuna_log_pdf(space, obs, xs, multivariate)
        want = [reference_log_pdf(space, obs, x, multivariate) for x in xs]
        for x, g, w in zip(xs, got, want):
            err = abs(g - w)
            worst = max(worst, err)
            status = "ok" if err <= 1e-9 * max(1.0, abs(w)) else "MISMATCH"
            print(f"{status:8} {label:30} x={x}  patched 3.1 {g:.12f}  4.9.0 {w:.12f}")
            if status != "ok":
                return False, worst
    return True, worst


def main():
    # A number worked by hand, so that the reference itself is anchored: one observation at 0.3
    # in [0, 1]. Its kernel is 0.7 wide (the gap to 1; the magic clip's floor is 1/3), the prior's
    # is 1, weights 1/2 each. At x = 0.3: 0.5 * phi(0) / 0.7 / (Phi(1) - Phi(-3/7))
    # + 0.5 * phi(0.2) / (Phi(0.5) - Phi(-0.5)) = 0.5 * 0.398942 / 0.7 / 0.507227
    # + 0.5 * 0.391043 / 0.382925 = 0.561797 + 0.510600 = 1.072397; log = 0.069896.
    by_hand = math.log(1.072397)
    optuna_tpe.apply_current_release_patches()
    patched = optuna_log_pdf(UNIT, {"x": [0.3]}, [{"x": 0.3}], False)[0]
    reference = reference_log_pdf(UNIT, {"x": [0.3]}, {"x": 0.3}, False)
    assert abs(reference - by_hand) < 2e-6, (reference, by_hand)
    assert abs(patched - by_hand) < 2e-6, (patched, by_hand)
    ok, worst = run_cases()
    # The patched mixture is a density: five observations in [0, 1] integrate to 1 (3.1: 0.339).
    grid = np.linspace(0.0, 1.0, 200001)
    params = _ParzenEstimatorParameters(True, 1.0, True, False, default_weights, False)
    five = _ParzenEstimator({"x": np.asarray([0.1, 0.15, 0.5, 0.52, 0.9])}, UNIT, params)
    integral = float(np.trapz(np.exp(five.log_pdf({"x": grid})), grid))
    print(f"five observations in [0, 1]: the patched density integrates to {integral:.6f}")
    ok = ok and abs(integral - 1.0) < 1e-6
    # And the check can fail: each patch alone, and neither, leave 3.1 off 4.9.0 on some cases.
    n_points = sum(len(c[3]) for c in CASES)
    optuna_tpe.restore_release_31()
    unpatched = count_mismatches()
    optuna_tpe._truncnorm.logpdf = optuna_tpe._logpdf_with_scale
    density_only = count_mismatches()
    optuna_tpe.restore_release_31()
    optuna_tpe.parzen_estimator._ParzenEstimator._calculate_numerical_params = optuna_tpe._numerical_params_current
    widths_only = count_mismatches()
    optuna_tpe.restore_release_31()
    print(f"points off 4.9.0 (of {n_points}): unpatched 3.1 {unpatched}, with the -log(sigma) patch only "
          f"{density_only}, with the widths patch only {widths_only}, with both 0 "
          f"(largest difference {worst:.2e})")
    differs = unpatched > 0 and density_only > 0 and widths_only > 0
    if not (ok and differs):
        print("optuna_current_check: FAILED")
        sys.exit(1)
    print("optuna_current_check: patched Optuna 3.1 matches Optuna 4.9.0's density on every case")


if __name__ == "__main__":
    main()
