#!/usr/bin/env bash
# Runs every preset's full recipe on the real MNIST and keeps each run's JSON under
# docs/results/recipes/<id>.json (stderr progress beside it as <id>.log). Then rewrite the docs' tables
# from the records with
#   node dist/scripts/docs-tables.js --write
# Usage: scripts/reproduce-recipes.sh [preset ...]   (default: all seven; MNIST_DIR or --data-dir via DATA_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-docs/results/recipes}
mkdir -p "$out"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(two-layer-net mlp tanh-mlp mse-mlp prelu-mlp deep-mlp cnn)
for id in "${presets[@]}"; do
  echo "== $id" >&2
  tmp="$out/.$id.json.tmp"
  # Written to a temp file and renamed, so a failed run never leaves a half-written result.
  node dist/lib/cli/main.js train --model "$id" --seed 1 --backend "${BACKEND:-auto}" ${DATA_DIR:+--data-dir "$DATA_DIR"} --json >"$tmp" 2>"$out/$id.log"
  mv "$tmp" "$out/$id.json"
done
