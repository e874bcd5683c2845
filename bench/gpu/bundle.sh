#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine without Node or a registry: this machine's
# Node binary and the orchestrator's production modules (no TF.js, canvas or sharp), xz-compressed
# into devbundle/ (git-ignored; about 27 MB).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/devbundle"
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > "$root/devbundle/node.xz"
(cd "$root/node_modules" && tar cf - --exclude=./@tensorflow --exclude=./@napi-rs --exclude=./playwright-core \
  --exclude=./typescript --exclude=./core-js --exclude=./@img --exclude=./sharp --exclude=./@types --exclude=./chart.js \
  --exclude=./better-sqlite3/deps --exclude=./better-sqlite3/src . | xz -T2 -6 > "$root/devbundle/nm.tar.xz")
ls -la "$root/devbundle"
