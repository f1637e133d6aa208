#!/bin/sh
# The GPU machine's one command (docs/GPU.md, "The prepared GPU command"). The machine has no Node
# and no network: carry.sh unpacks the Node binary and the offline bundle that travelled in
# .device-carry/ (made by `node dist/scripts/gpu/prepare.js`), then this hands over to
# gpu-run.cjs, which does everything else (Vulkan packages from .gl/, probe, doctor, training,
# PyTorch peer, profile, output folder). Run from anywhere; extra arguments go to `gpu-run.cjs run`.
#
#   OUT=/some/empty/folder sh scripts/gpu/device-run.sh [--budget 540] [--only ...] ...
#
# Environment: see carry.sh.
set -eu
me=device-run
. "$(dirname "$0")/carry.sh"
echo "device-run: Node $("$work/node" --version), bundle in $work/mnist-nets, output to $out"
set -- --out "$out" --work "$work/run" --data-dir "$carry/mnist" "$@"
[ -d "$gl" ] && set -- --gl "$gl" "$@"
cd "$repo"
exec "$work/node" "$work/mnist-nets/gpu-run.cjs" run "$@"
