#!/usr/bin/env bash
# Compiles a BERT task's graph (default pretrain) with its gradients in
# float64, runs it on shared random weights and a fixed batch, and compares
# the loss and every parameter gradient with autograd on the independent
# PyTorch implementation (relative to each gradient's largest entry, <= 1e-4).
# Usage: check_bert_gradients.sh BERTC PRESET HEADS [TASK]
set -euo pipefail
bertc="$1" preset="$2" heads="$3" task="${4:-pretrain}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
batch=2 seq=32
# Vector code for f64 kernels is not supported yet: scalar loops.
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task "$task" --step=gradients --f64 \
  --vectorize=false --batch "$batch" --seq "$seq" --target cpu -o "$work/bert"
"$work/bert" init --seed 7 --output "$work/weights.safetensors"
"$work/bert" infer --weights "$work/weights.safetensors" --input "$here/data/$task.jsonl" \
  --output "$work/outputs.safetensors" --threads 2
/usr/bin/python3 "$here/bert_reference.py" --weights "$work/weights.safetensors" \
  --input "$here/data/$task.jsonl" --outputs "$work/outputs.safetensors" \
  --heads "$heads" --batch "$batch" --seq "$seq" --gradients --tolerance 1e-4
