#!/bin/bash
# Rehearses the GPU command on a machine without a GPU, as the device tool would run it
# (docs/GPU.md, "Rehearsal"): a clone of the committed branch plus the carried folders, no
# node_modules, no Node but the carried one, Vulkan through Mesa's lavapipe (a software Vulkan
# driver) unpacked into a private folder, never into /. Small step counts; the PyTorch peer runs
# on the CPU; every webgpu run is repeated on wasm with the same seed and compared.
#
#   bash scripts/gpu/rehearse.sh [STAGE_DIR]        (default /tmp/mnist-nets-rehearsal)
#
# Needs: root (a private mount namespace hides /usr/bin/node), apt-get (scripts/gpu/lavapipe.sh
# downloads Mesa 25's lavapipe from bookworm-backports into its cache: bookworm's own Mesa 22.3
# lavapipe lacks a feature Dawn requires), /usr/bin/python3 with torch, and
# `node dist/scripts/gpu/prepare.js` run first.
# Extra gpu-run options: REHEARSAL_ARGS="--only doctor" bash scripts/gpu/rehearse.sh
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
stage=${1:-/tmp/mnist-nets-rehearsal}
branch=$(git -C "$repo" branch --show-current)

for f in .device-carry/node.xz .device-carry/mnist-nets.tar.gz; do
  [ -f "$repo/$f" ] || { echo "rehearse: $repo/$f is missing: run 'npm run build && node dist/scripts/gpu/prepare.js' first" >&2; exit 2; }
done
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "rehearse: note: uncommitted changes are not in the clone that is rehearsed" >&2
fi

# 1. lavapipe (Mesa 25) and what it needs that this system lacks: the same .debs tests and CI use,
#    downloaded once into lavapipe.sh's cache. They stand in for the device's NVIDIA driver.
mapfile -t lavapipe_debs < <(bash "$repo/scripts/gpu/lavapipe.sh" --debs)
[ "${#lavapipe_debs[@]}" -gt 0 ] || { echo "rehearse: scripts/gpu/lavapipe.sh gave no .debs" >&2; exit 1; }

# 2. What the device tool sends: committed files, plus the carried folders.
rm -rf "$stage" && mkdir -p "$stage/gl" "$stage/root" "$stage/out"
git clone -q --branch "$branch" "$repo" "$stage/repo"
cp -r "$repo/.device-carry" "$repo/.gl" "$stage/repo/"
travel=$(cd "$stage/repo" && { git ls-files -z -co --exclude-standard | xargs -0 stat -c %s; find .device-carry .gl -type f -printf '%s\n'; } | awk '{ s += $1 } END { print s }')
echo "rehearse: what would travel: $((travel / 1048576)) MiB (limit 64 MiB)"
[ "$travel" -lt $((64 * 1048576)) ] || { echo "rehearse: too large to travel" >&2; exit 1; }

# 3. The carried Vulkan loader plus lavapipe, for a private root.
# Two copies: one cp refuses a name given twice (the loader is in both), the second replaces it.
cp "$repo"/.gl/*.deb "$stage/gl/"
cp "${lavapipe_debs[@]}" "$stage/gl/"

# 4. The run, with /usr/bin/node hidden: only the carried Node can start.
export stage
unshare -m bash -c '
  mount --bind /dev/null /usr/bin/node
  if command -v node >/dev/null && node --version >/dev/null 2>&1; then echo "rehearse: a node is still on PATH" >&2; exit 1; fi
  cd "$stage/repo"
  OUT="$stage/out" MNIST_NETS_GL="$stage/gl" MNIST_NETS_GPU_WORK="$stage/work" sh scripts/gpu/device-run.sh \
    --gl-root "$stage/root" --allow-software --torch-device cpu --python /usr/bin/python3 --reference-backend wasm \
    --two-layer-net-steps 300 --cnn-steps 3 --cnn-long-steps 6 --profile-steps 2 --limit 60 --batch-size 10 \
    --time-scale 2 --profile-warmup 1 --budget 1800 '"${REHEARSAL_ARGS:-}"'
' && code=0 || code=$?

# 5. What would come back.
echo "rehearse: gpu-run exited $code; output folder $stage/out:"
ls -l "$stage/out"
exit "$code"
