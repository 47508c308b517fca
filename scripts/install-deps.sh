#!/usr/bin/env bash
# Installs the Debian packages bertc needs to build and test. Idempotent:
# packages already present are skipped, and nothing runs when all are there.
set -euo pipefail

packages=(
  cmake ninja-build ccache g++ python3 pkg-config
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  libtbb-dev
  libvulkan-dev glslc spirv-tools vulkan-validationlayers mesa-vulkan-drivers
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-torch python3-numpy libopenblas0-openmp
  openmpi-bin
)
# npm fetches the data packages (scripts/install-data.sh); any npm will do.
command -v npm >/dev/null || packages+=(npm)
# Extra groups, asked for by name: `install-deps.sh fuzz` adds clang's fuzzer runtime.
for group in "$@"; do
  case "$group" in
    fuzz) packages+=(clang-19 libclang-rt-19-dev) ;;
    *) echo "install-deps.sh: unknown group '$group' (known: fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps.sh: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
