#!/usr/bin/env bash
# Compiles BERT-tiny's infer and classify tasks (forward only) and runs
# check_hf_checkpoints.py on them: published checkpoint layouts loaded and
# compared with the PyTorch reference.
# Usage: check_hf_checkpoints.sh BERTC
set -euo pipefail
bertc="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for task in infer classify; do
  "$bertc" compile "$root/models/bert.bertc" --preset tiny --task "$task" --step=forward \
    --batch 2 --seq 32 --target cpu -o "$work/$task"
done
/usr/bin/python3 "$here/check_hf_checkpoints.py" --infer "$work/infer" --classify "$work/classify" \
  --work "$work/files" --heads 2 --batch 2 --seq 32 --tolerance 1e-5
