#!/usr/bin/env bash
# The same compiled programs on the CPU and on a Vulkan device (lavapipe in
# CI), the Khronos validation layer on: BERT's infer and pretrain tasks
# compiled for both targets at batch 4, seq 32, then compared by
# vulkan_vs_cpu.sh (forward outputs, first-step gradients and STEPS steps'
# losses within 1e-4; as the device chooses — lavapipe: the kernels for 64
# invocations per workgroup, with the reductions' subgroup modules —, with
# --no-subgroups, and with the kernels for 256 invocations, what a GPU
# chooses).
# Usage: check_vulkan.sh BERTC PRESET STEPS [COMPILE_FLAGS...]
set -euo pipefail
bertc="$1" preset="$2" steps="$3"
shift 3
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
shape=(--batch 4 --seq 32)
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task infer "${shape[@]}" "$@" \
  --target cpu,vulkan -o "$work/infer"
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task pretrain "${shape[@]}" "$@" \
  --target cpu,vulkan -o "$work/train"
"$here/vulkan_vs_cpu.sh" "$work/infer" "$work/train" "$steps" "$here/data"
