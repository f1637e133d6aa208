#!/bin/sh
# The GPU machine's one command (docs/GPU.md, "The prepared GPU command"). The machine has no Node
# and no network: this unpacks the Node binary and the offline bundle that travelled in
# .device-carry/ (made by `node dist/scripts/gpu/prepare.js`), then hands over to gpu-run.cjs,
# which does everything else (Vulkan packages from .gl/, probe, doctor, training, PyTorch peer,
# profile, output folder). Run from anywhere; extra arguments go to `gpu-run.cjs run`.
#
#   OUT=/some/empty/folder sh scripts/gpu/device-run.sh [--budget 540] [--only ...] ...
#
# Environment: OUT (the output folder; the device tool sets it), MNIST_NETS_CARRY (default
# <repo>/.device-carry), MNIST_NETS_GL (default <repo>/.gl), MNIST_NETS_GPU_WORK (default
# /tmp/mnist-nets-gpu).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
carry=${MNIST_NETS_CARRY:-$repo/.device-carry}
gl=${MNIST_NETS_GL:-$repo/.gl}
work=${MNIST_NETS_GPU_WORK:-/tmp/mnist-nets-gpu}
out=${OUT:?device-run: set OUT to an empty output folder (the device tool sets it)}
for f in node.xz mnist-nets.tar.gz mnist/train-images-idx3-ubyte.gz; do
  [ -f "$carry/$f" ] || { echo "device-run: $carry/$f is missing: run 'node dist/scripts/gpu/prepare.js' in the repository first and carry .device-carry (docs/GPU.md)" >&2; exit 2; }
done
rm -rf "$work" && mkdir -p "$work"
# xz is not on every image; Python's lzma reads the same file.
if command -v xz >/dev/null 2>&1; then
  xz -dc "$carry/node.xz" >"$work/node.partial"
else
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$carry/node.xz" "$work/node.partial"
fi
chmod 755 "$work/node.partial" && mv "$work/node.partial" "$work/node"
tar -xzf "$carry/mnist-nets.tar.gz" -C "$work"
echo "device-run: Node $("$work/node" --version), bundle in $work/mnist-nets, output to $out"
set -- --out "$out" --work "$work/run" --data-dir "$carry/mnist" "$@"
[ -d "$gl" ] && set -- --gl "$gl" "$@"
cd "$repo"
exec "$work/node" "$work/mnist-nets/gpu-run.cjs" run "$@"
