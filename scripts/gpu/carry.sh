# Sourced (POSIX sh) by device-run.sh and device-presets.sh, the device machine's commands, with
# `me` set to the sourcing script's name: the carried folders, the output folder, and the carried
# Node and offline bundle unpacked into $work (the machine has no Node and no network).
#
# Environment: OUT (the output folder; the device tool sets it), MNIST_NETS_CARRY (default
# <repo>/.device-carry), MNIST_NETS_GL (default <repo>/.gl), MNIST_NETS_GPU_WORK (default
# /tmp/mnist-nets-gpu).
repo=$(cd "$(dirname "$0")/../.." && pwd)
carry=${MNIST_NETS_CARRY:-$repo/.device-carry}
gl=${MNIST_NETS_GL:-$repo/.gl}
work=${MNIST_NETS_GPU_WORK:-/tmp/mnist-nets-gpu}
out=${OUT:?$me: set OUT to an empty output folder (the device tool sets it)}
for f in node.xz mnist-nets.tar.gz mnist/train-images-idx3-ubyte.gz; do
  [ -f "$carry/$f" ] || { echo "$me: $carry/$f is missing: run 'node dist/scripts/gpu/prepare.js' in the repository first and carry .device-carry (docs/GPU.md)" >&2; exit 2; }
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
