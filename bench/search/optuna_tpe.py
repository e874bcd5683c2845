"""Optuna's TPESampler on the benchmark's functions (bench/search/functions.ts has the same
definitions: keep the two in step). Reads a job as JSON on stdin, writes results as JSON on stdout.

Job: {"mode": "optimise", "function": name, "reps": R, "trials": N, "slots": S,
      "noise": [[...]] (R x N standard normal draws), "durations": [[...]] (R x N),
      "optuna_current": bool (optional: patch 3.1's TPE to propose as the current release does)}
  -> {"runs": [{"values": [true value of each trial, in completion order], "seen": [what the sampler saw]}, ...]}
Job: {"mode": "time", "function": name, "finished": N, "asks": K, "optuna_current": bool}
  -> {"ms": [time of each ask-and-sample, ...]}
Job: {"mode": "proposals", "function": name, "history": [{"params": {...}, "value": v}, ...],
      "pending": [{...}, ...], "seeds": S, "optuna_current": bool}
  -> {"proposals": [params for seeds 0..S-1], "candidates": [per seed, per parameter in
      suggestion order: {"name", "x": [24 internal values], "log_l": [...], "log_g": [...]}]}
"""
import heapq
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import optuna
from optuna.distributions import IntDistribution
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe import parzen_estimator

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")


# --optuna-current: Debian ships Optuna 3.1.0; the current release is 4.9.0 (this machine reaches no
# other registry). Between the two, for one objective without constraints, two changes alter what
# TPESampler proposes on this benchmark's spaces (float, log float, int, categorical). The patches
# below reproduce them, in this process only; docs/search.md lists every change that was checked.
_LOGPDF_31 = _truncnorm.logpdf
_NUMERICAL_PARAMS_31 = parzen_estimator._ParzenEstimator._calculate_numerical_params


def _logpdf_with_scale(x, a, b, loc=0, scale=1):
    """Commit 206e71923 (Optuna 3.5.0, "Fix logpdf for scaled truncnorm"): a kernel's density in x
    carries -log(scale). 3.1 returns the density of (x - loc) / scale, so each kernel counted
    `scale` times too much in l(x) and g(x). Only the continuous kernels call this; integers
    use masses, which the scale does not touch. -inf and nan pass through unchanged."""
    return _LOGPDF_31(x, a, b, loc, scale) - np.log(scale)


def _numerical_params_current(self, observations, param_name):
    """Commit c1267c3f1 (PR #6574, Optuna 4.9.0, "Remove prior_mu from compute_sigmas"): a kernel's
    width is the larger gap to its neighbours among the *observations* and the range's ends; 3.1
    also counted the prior's centre, (low + high) / 2, as a neighbour. Everything else is as in
    3.1 and 4.9.0 alike: without consider_endpoints the outermost kernels (once there are two)
    take their inner gap; the magic clip keeps widths in [range / min(100, n + 2), range]; the
    prior kernel sits at the centre with the range's width. Multivariate widths (Scott's rule)
    did not change up to 4.9.0, so they are 3.1's."""
    dist = self._search_space[param_name]
    if isinstance(dist, IntDistribution) and dist.log:
        # 4.7.0 (commits 4ede7000c, a5ab97c7b) gives a log integer the mass of its interval;
        # 3.1 a log-space density. Not reproduced (the benchmark has none): refuse, not mislabel.
        raise NotImplementedError("--optuna-current does not reproduce log-integer parameters")
    if self._parameters.multivariate:
        return _NUMERICAL_PARAMS_31(self, observations, param_name)
    params = self._parameters
    assert params.consider_prior, "the patch follows the defaults (4.3.0 made the prior mandatory)"
    low, high = self._low[param_name], self._high[param_name]
    n = len(observations)
    mus = np.append(np.asarray(observations, dtype=float), 0.5 * (low + high))
    sigmas = np.empty(n + 1)
    if n > 0:
        order = np.argsort(observations)  # numpy's default kind, as 4.9.0 sorts (ties alike)
        ordered = np.asarray(observations, dtype=float)[order]
        padded = np.concatenate([[low], ordered, [high]])
        gaps = np.maximum(padded[1:-1] - padded[:-2], padded[2:] - padded[1:-1])
        if not params.consider_endpoints and n >= 2:
            gaps[0] = ordered[1] - ordered[0]
            gaps[-1] = ordered[-1] - ordered[-2]
        widths = np.empty(n)
        widths[order] = gaps
        smallest = (high - low) / min(100.0, n + 2.0) if params.consider_magic_clip else parzen_estimator.EPS
        sigmas[:n] = np.clip(widths, smallest, high - low)
    sigmas[n] = high - low
    return mus, sigmas


def apply_current_release_patches():
    # 206e71923 (PR #5110, 3.5.0): the truncated normal's log density gains -log(sigma).
    _truncnorm.logpdf = _logpdf_with_scale
    # c1267c3f1 (PR #6574, 4.9.0): univariate kernel widths without the prior's centre.
    parzen_estimator._ParzenEstimator._calculate_numerical_params = _numerical_params_current


def restore_release_31():
    """Undoes apply_current_release_patches (the check shows the patches change something)."""
    _truncnorm.logpdf = _LOGPDF_31
    parzen_estimator._ParzenEstimator._calculate_numerical_params = _NUMERICAL_PARAMS_31


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H_P = [[v * 1e-4 for v in row] for row in [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                                            [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]]


def hartmann6(p):
    total = 0.0
    for i in range(4):
        inner = sum(H_A[i][j] * (p[f"x{j}"] - H_P[i][j]) ** 2 for j in range(6))
        total += H_ALPHA[i] * math.exp(-inner)
    return -total


def _load_recorded():
    """bench/search/recorded.json, as functions.ts's RecordedSurface reads it."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "recorded.json")) as f:
        runs = json.load(f)["runs"]
    lrs = sorted({r["lr"] for r in runs})
    batches = sorted({r["batch_size"] for r in runs})
    warmups = sorted({r["warmup"] for r in runs})
    value = {(r["batch_size"], r["lr"], r["warmup"]): r["best_val_loss"] for r in runs}
    return lrs, batches, warmups, value


REC_LRS, REC_BATCHES, REC_WARMUPS, REC_VALUE = _load_recorded()


def _cell(axis, x):
    i = 0
    while i < len(axis) - 2 and x > axis[i + 1]:
        i += 1
    t = (x - axis[i]) / (axis[i + 1] - axis[i])
    return i, min(1.0, max(0.0, t))


def surrogate(p):
    """Bilinear in (log lr, warmup) between the recorded runs, for each recorded batch size."""
    b = p["batch_size"]
    i, s = _cell([math.log(v) for v in REC_LRS], math.log(p["lr"]))
    j, t = _cell(REC_WARMUPS, p["warmup"])
    v = lambda a, c: REC_VALUE[(b, REC_LRS[a], REC_WARMUPS[c])]  # noqa: E731
    return (1 - s) * ((1 - t) * v(i, j) + t * v(i, j + 1)) + s * ((1 - t) * v(i + 1, j) + t * v(i + 1, j + 1))


def suggest_branin(t):
    return {"x1": t.suggest_float("x1", -5, 10), "x2": t.suggest_float("x2", 0, 15)}


def suggest_h6(t):
    return {f"x{j}": t.suggest_float(f"x{j}", 0, 1) for j in range(6)}


def suggest_surrogate(t):
    return {"lr": t.suggest_float("lr", REC_LRS[0], REC_LRS[-1], log=True),
            "batch_size": t.suggest_categorical("batch_size", REC_BATCHES),
            "warmup": t.suggest_int("warmup", REC_WARMUPS[0], REC_WARMUPS[-1])}


FUNCTIONS = {
    "Branin": (suggest_branin, branin, 0.0),
    "Hartmann-6": (suggest_h6, hartmann6, 0.0),
    "Hartmann-6, noise sd 0.1": (suggest_h6, hartmann6, 0.1),
    "lr x batch x warmup surrogate": (suggest_surrogate, surrogate, 0.01),
}


def optimise(job):
    suggest, f, sd = FUNCTIONS[job["function"]]
    out = []
    for rep in range(job["reps"]):
        slots = job["slots"]
        sampler = optuna.samplers.TPESampler(seed=rep, constant_liar=slots > 1)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        noise, durations = job["noise"][rep], job["durations"][rep]
        running = []  # (finish time, start index, trial, true value)
        started = 0
        values, seen_values = [], []

        def start(now):
            nonlocal started
            trial = study.ask()
            p = suggest(trial)
            true = f(p)
            heapq.heappush(running, (now + durations[started], started, trial, true, true + sd * noise[started]))
            started += 1

        while started < min(slots, job["trials"]):
            start(0.0)
        while running:
            now, _, trial, true, seen = heapq.heappop(running)
            study.tell(trial, seen)
            values.append(true)
            seen_values.append(seen)
            if started < job["trials"]:
                start(now)
        out.append({"values": values, "seen": seen_values})
    return {"runs": out}


def timing(job):
    suggest, f, _ = FUNCTIONS[job["function"]]
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(job["finished"]):
        t = study.ask()
        study.tell(t, f(suggest(t)))
    study.sampler = optuna.samplers.TPESampler(seed=1)
    ms = []
    for _ in range(job["asks"]):
        t0 = time.process_time()  # CPU time, as the Node side measures
        t = study.ask()
        suggest(t)
        ms.append((time.process_time() - t0) * 1000)
        study.tell(t, state=optuna.trial.TrialState.FAIL)
    return {"ms": ms, "version": optuna.__version__}


def proposals(job):
    """What TPESampler proposes next on a fixed history, once per seed, with every candidate's
    log l(x) and log g(x) (bench/search/compare.ts scores the same candidates with clipsweep)."""
    suggest, _, _ = FUNCTIONS[job["function"]]
    study = optuna.create_study(direction="minimize")
    probe = study.ask()  # the parameters' distributions, as suggest() declares them
    suggest(probe)
    dists = probe.distributions
    study.tell(probe, state=optuna.trial.TrialState.FAIL)
    for h in job["history"]:
        study.add_trial(optuna.trial.create_trial(params=h["params"], distributions=dists, value=h["value"]))
    for params in job["pending"]:  # running trials, in proposal order (the liar's)
        study.enqueue_trial(params)
        suggest(study.ask())
    captured = []
    compare = optuna.samplers.TPESampler._compare.__func__

    def spy(cls, samples, log_l, log_g):
        (name, xs), = samples.items()
        captured.append({"name": name, "x": xs.tolist(), "log_l": log_l.tolist(), "log_g": log_g.tolist()})
        return compare(cls, samples, log_l, log_g)

    optuna.samplers.TPESampler._compare = classmethod(spy)
    out, cands = [], []
    for seed in range(job["seeds"]):
        study.sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=len(job["pending"]) > 0)
        trial = study.ask()
        captured.clear()
        out.append(suggest(trial))
        cands.append(list(captured))
        study.tell(trial, state=optuna.trial.TrialState.FAIL)  # FAIL: never seen by the next seed
    return {"proposals": out, "candidates": cands}


if __name__ == "__main__":
    job = json.load(sys.stdin)
    if job.get("optuna_current"):
        apply_current_release_patches()
    modes = {"optimise": optimise, "time": timing, "proposals": proposals}
    json.dump(modes[job["mode"]](job), sys.stdout)
