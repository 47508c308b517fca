#!/usr/bin/env bash
# bf16 against fp32 fine-tuning: BERT-tiny's classification step compiled
# twice (--precision fp32 and bf16), fine-tuned on the Pang & Lee sentiment
# sentences (a tenth held out) from the same random weights for each of
# three seeds; prints each run's dev accuracy and both means.
# Usage: scripts/bf16-finetune.sh [OUT_DIR]   (default bf16-finetune-out; BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bf16-finetune-out}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
scripts/install-data.sh "$data" >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
rm -rf "$out"
mkdir -p "$out"
grep -m1 'model name' /proc/cpuinfo
for precision in fp32 bf16; do
  "$build/bin/bertc" compile models/bert.bertc --preset tiny --task classify --batch 32 --seq 64 \
    --target cpu --precision "$precision" -o "$out/$precision" 2>/dev/null
  for seed in 1 2 3; do
    "$out/$precision" finetune --train "$data/sentiment/pang-lee.csv" --text-column 1 \
      --label-column 0 --vocab "$data/vocab.txt" --save "$out/run-$precision-$seed" \
      --epochs 4 --lr 1e-4 --seed "$seed" --threads 2 2>/dev/null | tail -n 1 \
      > "$out/$precision-$seed.json"
    echo "$precision seed $seed: $(cat "$out/$precision-$seed.json")"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
for p in ("fp32", "bf16"):
    acc = [json.load(open(f"{out}/{p}-{s}.json"))["dev_accuracy"] for s in (1, 2, 3)]
    print(f"{p}: dev accuracy mean {statistics.mean(acc):.4f} (seeds: {', '.join(f'{a:.4f}' for a in acc)})")
PY
