#!/usr/bin/env bash
# Runs jest as on a fresh machine with no network and no MNIST: a network namespace with only a
# loopback interface (local test servers still work), a mount namespace in which ../shared (the
# shared MNIST) is hidden under an empty tmpfs, an empty HOME (so no cache), and none of the
# dataset variables. The suite then runs on the npm sample; tests that need the full set skip
# with the reason 'needs full MNIST: ...'. Needs root (unshare); arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ "$(id -u)" != 0 ] || ! unshare -n -m true 2>/dev/null; then
  echo "test-offline: needs root and unshare (util-linux) for a namespace without network" >&2
  exit 2
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
shared=$(cd "$root/.." && pwd)/shared
# lavapipe (scripts/gpu/lavapipe.sh) is a provisioned system driver like Chromium, not data or a
# download: its cache is kept where the real HOME has it, so the WebGPU tests run here too.
lavapipe_cache=${MNIST_NETS_LAVAPIPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tfjs-mnist-nets/lavapipe}
# npm's package cache likewise: what `npm install` left there is on any machine that installed the
# project (the packaging test installs its tarball into apps from it, offline).
npm_cache=$(npm config get cache)
# MNIST_NETS_OFFLINE_PASS tells a skip reporter that skips saying 'needs full MNIST: ...' are intended here.
exec unshare -n -m env -u MNIST_DIR -u FASHION_MNIST_DIR -u MNIST_NETS_CACHE -u XDG_CACHE_HOME HOME="$home" MNIST_NETS_LAVAPIPE_CACHE="$lavapipe_cache" npm_config_cache="$npm_cache" MNIST_NETS_OFFLINE_PASS=1 \
  bash -c '
    set -euo pipefail
    ip link set lo up || { echo "test-offline: cannot bring up the loopback interface (iproute2)" >&2; exit 2; }
    [ -d "$1" ] && mount -t tmpfs -o ro,size=1m none "$1"
    shift
    exec node node_modules/.bin/jest "$@"
  ' test-offline "$shared" "$@"
