#!/usr/bin/env bash
# Compiles data/dropout.bertc (two dropout sites and their gradient), runs it
# with dropout on for two seeds and one and two threads, and checks the masks
# against an independent NumPy Philox4x32-10 (dropout_reference.py).
# Usage: check_dropout.sh BERTC
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$1" compile "$here/data/dropout.bertc" --task t --step=gradients --target cpu -o "$work/program"
/usr/bin/python3 "$here/dropout_reference.py" write-input "$work/x.jsonl"
for seed in 0 12345; do
  for threads in 1 2; do
    "$work/program" infer --input "$work/x.jsonl" --output "$work/out-$threads.safetensors" \
      --seed "$seed" --dropout 1 --threads "$threads"
  done
  cmp "$work/out-1.safetensors" "$work/out-2.safetensors"
  echo "seed $seed: identical outputs with 1 and 2 threads"
  /usr/bin/python3 "$here/dropout_reference.py" check "$work/x.jsonl" "$work/out-2.safetensors" "$seed"
done
