#!/usr/bin/env bash
# Compiles BERT's training step for a task, runs ten steps on shared random
# weights and fixed data (dropout off), and compares the first step's
# gradients of every parameter and the loss of every step with the
# independent PyTorch implementation and optimizer (train_reference.py).
# Usage: check_training.sh BERTC PRESET TASK HEADS [BIAS_CORRECTION [COMPILE_FLAGS...]]
# TOLERANCE (default 1e-4): the largest gradient rel diff and loss diff allowed.
set -euo pipefail
bertc="$1" preset="$2" task="$3" heads="$4" bias="${5:-1}"
shift $(( $# < 5 ? $# : 5 ))
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
batch=4 seq=32 lr=1e-3
flag=true
[ "$bias" = 1 ] || flag=false
"$bertc" compile "$root/models/bert.bertc" --preset "$preset" --task "$task" --batch "$batch" \
  --seq "$seq" --bias-correction="$flag" "$@" --target cpu -o "$work/bert"
"$work/bert" init --seed 5 --output "$work/weights.safetensors"
"$work/bert" train-step --weights "$work/weights.safetensors" --data "$here/data/train_$task.jsonl" \
  --steps 10 --lr "$lr" --dropout 0 --threads 2 --dump-grads "$work/grads.safetensors" \
  > "$work/steps.jsonl"
/usr/bin/python3 "$here/train_reference.py" --task "$task" --weights "$work/weights.safetensors" \
  --data "$here/data/train_$task.jsonl" --grads "$work/grads.safetensors" \
  --losses "$work/steps.jsonl" --heads "$heads" --batch "$batch" --seq "$seq" --lr "$lr" \
  --bias-correction "$bias" --tolerance "${TOLERANCE:-1e-4}"
