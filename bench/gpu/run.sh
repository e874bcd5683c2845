#!/usr/bin/env bash
# Runs bench/gpu/check.yaml on a GPU machine that has no Node: unpacks a Node binary and the
# orchestrator's production modules from devbundle/ (made by bench/gpu/bundle.sh), then prints
# what each run saw. Usage: bench/gpu/run.sh OUT_DIR
set -euo pipefail
out=${1:?output folder}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p /tmp/clipsweep-node "$out"
xz -dc "$root/devbundle/node.xz" > /tmp/clipsweep-node/node && chmod +x /tmp/clipsweep-node/node
mkdir -p "$root/node_modules" && tar xJf "$root/devbundle/nm.tar.xz" -C "$root/node_modules"
export PATH=/tmp/clipsweep-node:$PATH
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader
cd "$root/bench/gpu"
set +e
node "$root/dist/src/cli/main.js" run check.yaml --runs-dir "$out/runs" --json > "$out/events.jsonl"
echo "sweep run exit code: $?"
set -e
node "$root/dist/bench/gpu/summary.js" "$out/runs/sweeps.db"
