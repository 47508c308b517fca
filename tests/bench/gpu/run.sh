#!/usr/bin/env bash
# The Vulkan check, run where the GPU is, in the folder that
# tests/bench/gpu/prepare.sh made (any Linux x86-64 machine with a Vulkan
# driver; on a machine without a GPU, the first Vulkan device, e.g. Mesa's
# lavapipe, and PyTorch on the CPU). Unpacks the carried libraries, picks a
# Python with PyTorch, and runs check.py: the devices, the programs against
# the CPU, the training steps timed per workgroup size with and without
# subgroup reductions, the slowest kernels, the same steps in PyTorch (CUDA
# where it has a GPU, fp32 and bf16 autocast), a table and a JSON file.
# Usage: DIR/run.sh   (OUT: where the results go, default DIR/results;
#   STEPS (10): timed steps per run; COMPARE_STEPS (3); DEVICE: a Vulkan
#   device, vulkan:N (default: the first that is not a CPU); PYTHON)
# Exits non-zero when the comparison against the CPU or a run failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
libs="$here/libs"
rm -rf "$libs"
mkdir -p "$libs"
for deb in "$here"/debs/*.deb; do
  [ -e "$deb" ] && dpkg-deb -x "$deb" "$libs"
done
export LD_LIBRARY_PATH="$libs/usr/lib/x86_64-linux-gnu:$here/debs/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${PYTHON:-}" ]; then
  for python in python3 /usr/bin/python3; do
    if "$python" -c "import torch" 2>/dev/null; then PYTHON="$python"; break; fi
  done
fi
[ -n "${PYTHON:-}" ] || { echo "run.sh: no python3 with torch found (set PYTHON)" >&2; exit 1; }
export PYTHON
exec "$PYTHON" "$here/check.py" --out "${OUT:-$here/results}"
