#!/usr/bin/env bash
# A long pretraining run with the recipe found by measurement (README,
# "Pretraining recipe"): all the English prose installed (State of the
# Union, Moby Dick, the movie reviews and Reuters articles of the benchmark
# tasks' training splits), masked-LM accuracy on held-out reviews every 500
# steps, a checkpoint every 500 steps. Resumable: run the same command again
# after an interruption and it continues from the last checkpoint exactly.
#
# Usage: scripts/pretrain.sh [PRESET] [STEPS] [OUT_DIR]
#        (default tiny, 15000 steps — about an hour on 2 cores for BERT-tiny
#        — and pretrain-out; BUILD_DIR=build; BATCH (32), SEQ (128), LR
#        (2e-3), WARMUP (STEPS/10), DUPE (dupe factor, 10), DROPOUT (factor
#        on the model's dropout, 0), THREADS (2) override the recipe; a
#        resumed run must keep them)
# Then: scripts/evaluate.sh OUT_DIR/run/checkpoint PRESET (a HuggingFace model
# directory: transformers opens it too)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-tiny}" steps="${2:-15000}" out="${3:-pretrain-out}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
batch="${BATCH:-32}" seq="${SEQ:-128}" lr="${LR:-2e-3}" warmup="${WARMUP:-$((steps / 10))}"
dupe="${DUPE:-10}" dropout="${DROPOUT:-0}" threads="${THREADS:-2}"
scripts/install-data.sh "$data" | tail -n 1
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
mkdir -p "$out"
program="$out/bert-$preset-pretrain-$batch-$seq"
[ -x "$program" ] || "$build/bin/bertc" compile models/bert.bertc --preset "$preset" \
  --task pretrain --batch "$batch" --seq "$seq" --target cpu -o "$program"
grep -m1 'model name' /proc/cpuinfo
resume=()
[ -d "$out/run/checkpoint" ] && resume=(--resume)
"$program" pretrain --corpus "$data/corpus" "$data/pretrain-extra" --vocab "$data/vocab.txt" \
  --save "$out/run" --steps "$steps" --lr "$lr" --warmup "$warmup" --dupe-factor "$dupe" \
  --dropout "$dropout" --seed 1 --save-every 500 --threads "$threads" \
  --eval-corpus "$data/pretrain-heldout" --eval-every 500 --eval-batches 16 "${resume[@]}"
grep eval_mlm "$out/run/metrics.jsonl" | tail -n 1
echo "pretrain.sh: $out/run/checkpoint (curves: $out/run/loss.svg)"
