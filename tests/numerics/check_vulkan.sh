#!/usr/bin/env bash
# The same compiled programs on the CPU and on a Vulkan device (lavapipe in
# CI), the Khronos validation layer on: the forward outputs of the infer
# task and, with STEPS > 0, the first training step's gradients of every
# parameter (dropout on, the same Philox masks on both) and the losses of
# STEPS training steps must agree within 1e-4
# (tests/numerics/compare_devices.py), and the layer must stay silent.
# Vulkan runs three times: as the device chooses (lavapipe: the kernels
# for 64 invocations per workgroup, with the reductions' subgroup modules),
# with --no-subgroups (workgroup memory only), and with the kernels for 256
# invocations per workgroup (what a GPU chooses).
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
"$work/train" init --seed 5 --output "$work/weights.safetensors"
compare=()
vulkans=(vulkan vulkan-no-subgroups vulkan-256)
for device in cpu "${vulkans[@]}"; do
  case "$device" in
    cpu) flags=(--device cpu) ;;
    vulkan) flags=(--device vulkan --validation) ;;
    vulkan-no-subgroups) flags=(--device vulkan --validation --no-subgroups) ;;
    vulkan-256) flags=(--device vulkan --validation --workgroup-size 256) ;;
  esac
  "$work/infer" infer "${flags[@]}" --weights "$work/weights.safetensors" \
    --input "$here/data/infer.jsonl" --output "$work/$device-outputs.safetensors"
  [ "$steps" -gt 0 ] || continue
  "$work/train" train-step "${flags[@]}" --weights "$work/weights.safetensors" \
    --data "$here/data/train_pretrain.jsonl" --steps "$steps" --lr 1e-3 --seed 3 \
    --dump-grads "$work/$device-grads.safetensors" > "$work/$device-steps.jsonl"
done
for device in "${vulkans[@]}"; do
  compare+=(--tensors "$work/cpu-outputs.safetensors" "$work/$device-outputs.safetensors")
  if [ "$steps" -gt 0 ]; then
    compare+=(--tensors "$work/cpu-grads.safetensors" "$work/$device-grads.safetensors"
              --steps "$work/cpu-steps.jsonl" "$work/$device-steps.jsonl")
  fi
done
/usr/bin/python3 "$here/compare_devices.py" --tolerance 1e-4 "${compare[@]}"
