"""Optuna's TPESampler on the benchmark's functions (bench/search/functions.ts has the same
definitions: keep the two in step). Reads a job as JSON on stdin, writes results as JSON on stdout.

Job: {"mode": "optimise", "function": name, "reps": R, "trials": N, "slots": S,
      "noise": [[...]] (R x N standard normal draws), "durations": [[...]] (R x N)}
  -> {"runs": [{"values": [true value of each trial, in completion order], "seen": [what the sampler saw]}, ...]}
Job: {"mode": "time", "function": name, "finished": N, "asks": K}
  -> {"ms": [time of each ask-and-sample, ...]}
"""
import heapq
import json
import math
import os
import sys
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore")


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


if __name__ == "__main__":
    job = json.load(sys.stdin)
    json.dump(optimise(job) if job["mode"] == "optimise" else timing(job), sys.stdout)
