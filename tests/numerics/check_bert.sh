#!/usr/bin/env bash
# Compiles BERT for PRESET and TASK (infer or pretrain), runs it on shared
# random weights and a fixed batch, and compares every output with the
# independent PyTorch implementation in bert_reference.py (max abs diff
# <= 1e-4, printed per output).
# Usage: check_bert.sh BERTC PRESET TASK HEADS
set -euo pipefail
bertc="$1" preset="$2" task="$3" heads="$4"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
batch=2 seq=32
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task "$task" --step=forward \
  --batch "$batch" --seq "$seq" --target cpu -o "$work/bert"
"$work/bert" init --seed 7 --output "$work/weights.safetensors"
"$work/bert" infer --weights "$work/weights.safetensors" --input "$here/data/$task.jsonl" \
  --output "$work/outputs.safetensors" --threads 2
/usr/bin/python3 "$here/bert_reference.py" --weights "$work/weights.safetensors" \
  --input "$here/data/$task.jsonl" --outputs "$work/outputs.safetensors" \
  --heads "$heads" --batch "$batch" --seq "$seq" --tolerance 1e-4
