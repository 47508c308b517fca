#!/usr/bin/env bash
# The main job, as far as bertc goes today: install what is missing, build the
# compiler, and compile BERT for every preset and task head, printing what
# each graph holds. Training on real data joins this script when the back end,
# autodiff and the training driver land.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
scripts/install-deps.sh
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bertc bertc-opt

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
