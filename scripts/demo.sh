#!/usr/bin/env bash
# The main job, as far as bertc goes today: install what is missing, build the
# compiler, compile BERT for every preset and task head (printing what each
# graph holds), then compile BERT-mini to a native program and run its
# forward pass. Training on real data joins this script when autodiff and the
# training driver land.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
scripts/install-deps.sh
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bertc bertc-opt BertcRuntimeMain

bertc="$build/bin/bertc"
printf '%-8s %-10s %12s %8s %6s\n' preset task parameters tensors ops
for preset in tiny mini small medium base large; do
  for task in pretrain classify infer; do
    summary=$("$bertc" compile models/bert.bertc --preset "$preset" --task "$task" --emit=summary)
    params=$(awk '/^parameters:/ {print $2}' <<<"$summary")
    tensors=$(awk '/^tensors:/ {print $2}' <<<"$summary")
    ops=$(awk '/^op / {n += $3} END {print n}' <<<"$summary")
    printf '%-8s %-10s %12s %8s %6s\n' "$preset" "$task" "$params" "$tensors" "$ops"
  done
done
echo
echo "The BERT-tiny pretraining graph (batch 2, seq 16), first lines:"
"$bertc" compile models/bert.bertc --preset tiny --task pretrain --batch 2 --seq 16 --emit=graph | sed -n '3,14p'

echo
echo "BERT-mini compiled for this CPU, forward pass on two sequences:"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bertc" compile models/bert.bertc --preset mini --task infer --batch 8 --seq 128 \
  --target cpu -o "$work/bert-mini"
"$work/bert-mini" info | head -8
"$work/bert-mini" init --seed 1 --output "$work/weights.safetensors"
"$work/bert-mini" infer --weights "$work/weights.safetensors" \
  --input tests/numerics/data/infer.jsonl --output "$work/outputs.safetensors" --threads 2
ls -l "$work/outputs.safetensors"
