"""Write clipsweep's metrics protocol from any Python training script (standard library only).

clipsweep puts this folder on the PYTHONPATH of every command trainer, so in a training loop:

    import clipsweep_metrics as cs
    cs.log(step, {"train/loss": loss.item(), "lr": lr, "logit_scale": scale})

Outside a sweep (SWEEP_METRICS_FILE unset) every call is a no-op, so the script still runs by
hand. See docs/protocol.md for the keys and events.
"""

import json
import math
import os
import time

__all__ = ["params", "log", "started", "checkpoint", "finished", "info", "checkpoint_dir", "run_dir", "attempt"]

_file = None


def _path():
    return os.environ.get("SWEEP_METRICS_FILE")


def _write(record):
    global _file
    path = _path()
    if not path:
        return
    if _file is None:
        _file = open(path, "a", encoding="utf-8", buffering=1)  # line-buffered: one write per line
    _file.write(json.dumps(record, default=_plain) + "\n")
    _file.flush()


def _plain(value):
    # Tensors and numpy scalars: take their Python value.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _number(value):
    value = float(value.item() if hasattr(value, "item") else value)
    # json.dumps writes NaN/Infinity bare; clipsweep reads both, but strings are plain JSON.
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def params():
    """The run's resolved parameters (an empty dict outside a sweep)."""
    return json.loads(os.environ.get("SWEEP_PARAMS", "{}"))


def checkpoint_dir():
    return os.environ.get("SWEEP_CHECKPOINT_DIR")


def run_dir():
    return os.environ.get("SWEEP_RUN_DIR")


def attempt():
    return int(os.environ.get("SWEEP_ATTEMPT", "1"))


def log(step, metrics=None, epoch=None, **more):
    """One metric line: log(120, {"train/loss": 2.3}) or log(120, lr=1e-6)."""
    values = dict(metrics or {})
    values.update(more)
    record = {"step": int(step), "time": time.time(), "metrics": {k: _number(v) for k, v in values.items()}}
    if epoch is not None:
        record["epoch"] = float(epoch)
    _write(record)


def started(total_steps, resumed_from_step=None, **info_fields):
    record = {"event": "started", "total_steps": int(total_steps)}
    if resumed_from_step is not None:
        record["resumed_from_step"] = int(resumed_from_step)
    if info_fields:
        record["info"] = info_fields
    _write(record)


def checkpoint(step, path, kind="last"):
    _write({"event": "checkpoint", "step": int(step), "path": str(path), "kind": kind})


def finished(summary=None, reason="completed"):
    _write({"event": "finished", "reason": reason, "summary": summary or {}})


def info(**fields):
    _write({"event": "info", **fields})
