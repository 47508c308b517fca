#!/usr/bin/env bash
# Compiles BERT-tiny's infer and classify tasks (forward only, and the
# classify and pretrain training steps) and runs check_hf_checkpoints.py on
# them: published checkpoint layouts loaded and compared with the PyTorch
# reference, and the directories finetune and pretrain save opened by
# HuggingFace's rules.
# Usage: check_hf_checkpoints.sh BERTC DATA_DIR
set -euo pipefail
bertc="$1" data="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for task in infer classify; do
  "$bertc" compile "$root/models/bert.bertc" --preset tiny --task "$task" --step=forward \
    --batch 2 --seq 32 --target cpu -o "$work/$task"
done
for task in classify pretrain; do
  "$bertc" compile "$root/models/bert.bertc" --preset tiny --task "$task" \
    --batch 2 --seq 32 --target cpu -o "$work/train-$task"
done
/usr/bin/python3 "$here/check_hf_checkpoints.py" --infer "$work/infer" --classify "$work/classify" \
  --train-classify "$work/train-classify" --pretrain "$work/train-pretrain" --data "$data" \
  --work "$work/files" --heads 2 --batch 2 --seq 32 --tolerance 1e-5
