#!/usr/bin/env bash
# Compiled programs on the CPU and on a Vulkan device, compared: the forward
# outputs of an infer program and, with STEPS > 0, a training program's
# first-step gradients of every parameter (dropout on, the same Philox masks
# on both) and the losses of STEPS steps must agree within 1e-4
# (compare_devices.py beside this script). Vulkan runs three times: as the
# device chooses, with --no-subgroups (workgroup memory only), and with the
# kernels for 256 invocations per workgroup. VALIDATION=1 (the default) runs
# the Khronos validation layer, which must stay silent.
# Usage: vulkan_vs_cpu.sh INFER TRAIN STEPS DATA_DIR [DEVICE]
#   INFER, TRAIN: programs compiled for the infer and pretrain tasks with
#   --target cpu,vulkan (batch 4, seq 32 for DATA_DIR's infer.jsonl and
#   train_pretrain.jsonl); DEVICE: vulkan or vulkan:N (default vulkan).
#   PYTHON (default /usr/bin/python3) runs the comparison (needs torch).
set -euo pipefail
infer="$1" train="$2" steps="$3" data="$4" vulkan="${5:-vulkan}"
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-/usr/bin/python3}"
validation=()
[ "${VALIDATION:-1}" = 1 ] && validation=(--validation)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$train" init --seed 5 --output "$work/weights.safetensors"
compare=()
vulkans=(vulkan vulkan-no-subgroups vulkan-256)
for device in cpu "${vulkans[@]}"; do
  case "$device" in
    cpu) flags=(--device cpu) ;;
    vulkan) flags=(--device "$vulkan" "${validation[@]}") ;;
    vulkan-no-subgroups) flags=(--device "$vulkan" "${validation[@]}" --no-subgroups) ;;
    vulkan-256) flags=(--device "$vulkan" "${validation[@]}" --workgroup-size 256) ;;
  esac
  "$infer" infer "${flags[@]}" --weights "$work/weights.safetensors" \
    --input "$data/infer.jsonl" --output "$work/$device-outputs.safetensors"
  [ "$steps" -gt 0 ] || continue
  "$train" train-step "${flags[@]}" --weights "$work/weights.safetensors" \
    --data "$data/train_pretrain.jsonl" --steps "$steps" --lr 1e-3 --seed 3 \
    --dump-grads "$work/$device-grads.safetensors" > "$work/$device-steps.jsonl"
done
for device in "${vulkans[@]}"; do
  compare+=(--tensors "$work/cpu-outputs.safetensors" "$work/$device-outputs.safetensors")
  if [ "$steps" -gt 0 ]; then
    compare+=(--tensors "$work/cpu-grads.safetensors" "$work/$device-grads.safetensors"
              --steps "$work/cpu-steps.jsonl" "$work/$device-steps.jsonl")
  fi
done
"$python" "$here/compare_devices.py" --tolerance 1e-4 "${compare[@]}"
