#!/bin/sh
# The second GPU command (docs/GPU.md, "The other presets on the GPU"): each preset's full recipe
# that the first command does not run (two-layer-net and cnn are there), seed 1, on webgpu, with
# the same carried Node, bundle, MNIST and Vulkan packages as scripts/gpu/device-run.sh (carry.sh).
#
#   OUT=/some/empty/folder sh scripts/gpu/device-presets.sh [BACKEND] [SECONDS_PER_RUN] [PRESETS]
#
# Each run gets SECONDS_PER_RUN (default 90) of training (--max-seconds) and is sent SIGINT 30 s
# after that (train then stops after its step, evaluates and prints its JSON anyway); mse-mlp
# (120,000 steps at batch 1) is the one expected to be cut on a GPU, since each step is a few
# dispatches whatever its size. PRESETS (one word, names separated by spaces) chooses which run.
# Output: <gpu>-<backend>-<preset>.json and <gpu>-presets-logs.tar.gz (<gpu>: `gpu-run label`, the
# name device-run.sh's files get, `NVIDIA H200` -> h200; the backend's name where nvidia-smi finds no GPU).
set -eu
me=device-presets
. "$(dirname "$0")/carry.sh"
backend=${1:-webgpu}
seconds=${2:-90}
presets=${3:-tanh-mlp mlp prelu-mlp deep-mlp mse-mlp}
# Debian's Vulkan loader, only where none is installed (as gpu-run.cjs does).
if [ -d "$gl" ] && ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in "$gl"/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
slug=$("$work/node" "$work/mnist-nets/gpu-run.cjs" label 2>/dev/null) || slug=$backend
mkdir -p "$work/logs"
for preset in $presets; do
  start=$(date +%s)
  code=0
  timeout -s INT -k 30 $((seconds + 30)) "$work/node" "$work/mnist-nets/mnist-nets.cjs" train --model "$preset" \
    --seed 1 --backend "$backend" --data-dir "$carry/mnist" --max-seconds "$seconds" --json \
    >"$work/$preset.json" 2>"$work/logs/$preset.log" || code=$?
  mv "$work/$preset.json" "$out/$slug-$backend-$preset.json"
  echo "device-presets: $preset exit $code, $(($(date +%s) - start)) s"
done
tar -czf "$out/$slug-presets-logs.tar.gz" -C "$work" logs
