#!/usr/bin/env bash
# Stops the test SLURM that start.sh started: cancels every job first (job processes outlive
# slurmd), then the daemons by their pid files. munged is left running (harmless, shared).
set -uo pipefail
DIR="${CLIPSWEEP_SLURM_DIR:-/tmp/clipsweep-slurm}"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if alive "$DIR/slurmctld.pid"; then
  scancel --full --quiet -u "$(id -un)" 2>/dev/null || true
  for _ in $(seq 100); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
fi
for d in slurmd slurmctld; do
  if alive "$DIR/$d.pid"; then
    pid="$(cat "$DIR/$d.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
done
rm -f "$DIR/env"
