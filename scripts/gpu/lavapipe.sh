#!/usr/bin/env bash
# Mesa's lavapipe, a software Vulkan driver, in a private folder: the WebGPU adapter that tests, CI
# and the GPU rehearsal use on machines without a GPU (docs/GPU.md, "A software adapter: lavapipe").
# Dawn drives it exactly as it drives an NVIDIA GPU: the Vulkan loader, a driver manifest, a core
# WebGPU adapter. Debian 12's own Mesa 22.3 lavapipe lacks a feature Dawn requires
# (shaderUniform*ArrayDynamicIndexing), so on bookworm the driver comes from bookworm-backports
# (Mesa 25). Nothing is installed into /: apt downloads the driver and whatever it needs that this
# system lacks (the Vulkan loader, a newer libdrm) into a cache, and `dpkg -x` unpacks them there.
#
#   bash scripts/gpu/lavapipe.sh [--offline] [--format sh|json] [--debs]
#
#   (default)       provision if needed (apt, network), then print the environment that selects it:
#                     eval "$(bash scripts/gpu/lavapipe.sh)"
#   --offline       never download: print the environment if provisioned, else exit 3 saying so
#   --format json   the same variables as one JSON object (what scripts/gpu/lavapipe-env.ts reads)
#   --debs          print the .deb files instead (absolute paths, one a line), for the rehearsal
#
# Variables printed: VK_DRIVER_FILES and VK_ICD_FILENAMES (the driver manifest, with its library's
# absolute path), LD_LIBRARY_PATH (the private library folders, then the caller's own),
# MNIST_NETS_WEBGPU_ALLOW_SOFTWARE=1 (lets the library use a software adapter), and
# MNIST_NETS_LAVAPIPE (the Mesa version, e.g. 25.0.7-2~bpo12+1). Progress goes to stderr.
#
# Environment: MNIST_NETS_LAVAPIPE_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/tfjs-mnist-nets/lavapipe),
# MNIST_NETS_DEBIAN_MIRROR (default http://deb.debian.org/debian).
# Needs: Debian (or a derivative with its suites) on amd64, apt-get, dpkg; not root.
# Exit: 0 ok, 1 apt or unpacking failed, 2 usage, 3 --offline and not provisioned.
set -euo pipefail

usage() { sed -n '10,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
offline=0 format=sh debs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --offline) offline=1 ;;
    --debs) debs=1 ;;
    --format) [ $# -ge 2 ] || { echo "lavapipe: --format: give sh or json" >&2; usage; }; format=$2; shift ;;
    --format=*) format=${1#--format=} ;;
    -h|--help) usage 0 ;;
    *) echo "lavapipe: unknown argument: $1" >&2; usage ;;
  esac
  shift
done
case "$format" in sh|json) ;; *) echo "lavapipe: --format: must be sh or json, got '$format'" >&2; exit 2 ;; esac

cache=${MNIST_NETS_LAVAPIPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tfjs-mnist-nets/lavapipe}
mirror=${MNIST_NETS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$cache/root
stamp=$cache/ready
manifest=$cache/lvp_icd.json
say() { echo "lavapipe: $*" >&2; }

provision() {
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || { say "needs apt-get and dpkg (Debian)"; exit 1; }
  local arch codename target
  arch=$(dpkg --print-architecture)
  [ "$arch" = amd64 ] || { say "only amd64 is supported (dawn.node is built for linux-x64), this is $arch"; exit 1; }
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || { say "cannot tell the Debian release from /etc/os-release"; exit 1; }
  local suites="$codename $codename-updates"
  target=mesa-vulkan-drivers
  if [ "$codename" = bookworm ]; then suites="$suites bookworm-backports"; target=mesa-vulkan-drivers/bookworm-backports; fi
  local started=$SECONDS
  say "provisioning into $cache ($target from $mirror)"
  rm -rf "$cache/apt" "$cache/debs.partial" "$root.partial"
  mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/debs.partial"
  local s
  for s in $suites; do echo "deb $mirror $s main"; done >"$cache/apt/sources.list"
  # Private package lists; the system's own dpkg status, so that only what it lacks is fetched.
  local o=(-q -oDir::State::Lists="$cache/apt/lists" -oDir::Etc::SourceList="$cache/apt/sources.list"
    -oDir::Etc::SourceParts=/nonexistent -oDir::Cache="$cache/apt" -oDebug::NoLocking=1)
  [ "$(id -u)" = 0 ] && o+=(-oAPT::Sandbox::User=root)
  apt-get "${o[@]}" update >"$cache/apt/update.log" 2>&1 || { cat "$cache/apt/update.log" >&2; say "apt-get update failed"; exit 1; }
  local plan
  plan=$(apt-get "${o[@]}" -s install --no-install-recommends "$target" libvulkan1 2>&1) || { echo "$plan" >&2; say "apt cannot resolve $target"; exit 1; }
  # "Inst libdrm2 [2.4.114-1+b1] (2.4.123-1~bpo12+1 Debian Backports:...)" -> libdrm2=2.4.123-1~bpo12+1
  local wanted
  wanted=$(echo "$plan" | sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\1=\3/p')
  echo "$wanted" | grep -q '^mesa-vulkan-drivers=' || { echo "$plan" >&2; say "apt plans no mesa-vulkan-drivers"; exit 1; }
  # shellcheck disable=SC2086
  (cd "$cache/debs.partial" && apt-get "${o[@]}" download $wanted >"$cache/apt/download.log" 2>&1) ||
    { cat "$cache/apt/download.log" >&2; say "apt-get download failed"; exit 1; }
  mkdir -p "$root.partial"
  local deb
  for deb in "$cache/debs.partial"/*.deb; do dpkg -x "$deb" "$root.partial"; done
  [ -f "$root.partial/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ] || { say "no libvulkan_lvp.so in $target"; exit 1; }
  local api
  api=$(cat "$root.partial"/usr/share/vulkan/icd.d/lvp_icd*.json | sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' | head -1)
  rm -rf "$cache/debs" "$root" && mv "$cache/debs.partial" "$cache/debs" && mv "$root.partial" "$root"
  # Mesa's manifest names its library by its path under /; this one names the private copy.
  printf '{\n  "file_format_version": "1.0.0",\n  "ICD": { "library_path": "%s", "api_version": "%s" }\n}\n' \
    "$root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" "${api:-1.3.0}" >"$manifest"
  local version
  version=$(dpkg-deb -f "$cache"/debs/mesa-vulkan-drivers_*.deb Version)
  # The package lists (some 80 MB) served this resolution only.
  rm -rf "$cache/apt"
  {
    echo "version=$version"
    echo "debs=$(cd "$cache/debs" && echo *.deb)"
    echo "deb_bytes=$(cat "$cache"/debs/*.deb | wc -c)"
    echo "cache_bytes=$(du -sb "$cache" | cut -f1)"
    echo "seconds=$((SECONDS - started))"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$stamp.partial" && mv "$stamp.partial" "$stamp"
  say "Mesa $version lavapipe ready ($(echo "$wanted" | wc -w) packages: $(echo $wanted | sed 's/=[^ ]*//g'); $((SECONDS - started)) s)"
}

if [ ! -f "$stamp" ] || [ ! -f "$manifest" ] || [ ! -f "$root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ]; then
  if [ "$offline" = 1 ]; then say "not provisioned in $cache: run 'bash scripts/gpu/lavapipe.sh' (downloads Mesa's lavapipe with apt)"; exit 3; fi
  provision
fi

if [ "$debs" = 1 ]; then
  for f in "$cache"/debs/*.deb; do echo "$f"; done
  exit 0
fi

version=$(sed -n 's/^version=//p' "$stamp")
libs=$root/usr/lib/x86_64-linux-gnu
[ -d "$root/lib/x86_64-linux-gnu" ] && libs=$libs:$root/lib/x86_64-linux-gnu
names=(VK_DRIVER_FILES VK_ICD_FILENAMES LD_LIBRARY_PATH MNIST_NETS_WEBGPU_ALLOW_SOFTWARE MNIST_NETS_LAVAPIPE)
values=("$manifest" "$manifest" "$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" 1 "$version")
if [ "$format" = sh ]; then
  for i in "${!names[@]}"; do printf 'export %s=%q\n' "${names[$i]}" "${values[$i]}"; done
else
  json() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
  sep='{'
  for i in "${!names[@]}"; do printf '%s%s: %s' "$sep" "$(json "${names[$i]}")" "$(json "${values[$i]}")"; sep=', '; done
  echo '}'
fi
