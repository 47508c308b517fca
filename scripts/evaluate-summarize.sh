#!/usr/bin/env bash
# Extractive summarisation of Reuters articles (their headlines as the
# references, tasks/summarize-reuters from scripts/install-data.sh): fine-tunes
# BERT's summarize task from CHECKPOINT and from random weights over SEEDS
# seeds, scores the top K sentences of each test article with ROUGE-1/2/L F1,
# and prints mean ± std beside Lead-K and the oracle (the ceiling).
# Usage: scripts/evaluate-summarize.sh CHECKPOINT|none [PRESET] [SEEDS] [OUT_DIR]
#        (default tiny, 3, evaluate-summarize-out; TOP (1), EPOCHS (3), LR
#        (1e-4), BATCH (8), SEQ (256), SHUFFLED (0: shuffled copies of each
#        training article, finetune-summarize --shuffled-copies), TASK
#        (summarize; summarize_transformer: BertSum's transformer layer over
#        the sentences), BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint="$1" preset="${2:-tiny}" seeds="${3:-3}" out="${4:-evaluate-summarize-out}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
top="${TOP:-1}" epochs="${EPOCHS:-3}" lr="${LR:-1e-4}" batch="${BATCH:-8}" seq="${SEQ:-256}"
shuffled="${SHUFFLED:-0}" task="${TASK:-summarize}"
scripts/install-data.sh "$data" >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
mkdir -p "$out"
grep -m1 'model name' /proc/cpuinfo
program="$out/$task-$preset-$batch-$seq"
[ -x "$program" ] || "$build/bin/bertc" compile models/bert.bertc --preset "$preset" \
  --task "$task" --batch "$batch" --seq "$seq" --target cpu -o "$program" 2>/dev/null
files="$data/tasks/summarize-reuters"
inits=(random)
[ "$checkpoint" != none ] && inits=(pretrained random)
for init in "${inits[@]}"; do
  for seed in $(seq "$seeds"); do
    run="$out/$init-$seed"
    [ -f "$run.json" ] && continue # Done in an earlier call.
    rm -rf "$run"
    from=()
    [ "$init" = pretrained ] && from=(--init "$checkpoint")
    "$program" finetune-summarize "${from[@]}" --train "$files/train.jsonl" --dev "$files/dev.jsonl" \
      --vocab "$data/vocab.txt" --save "$run" --epochs "$epochs" --lr "$lr" --seed "$seed" \
      --top "$top" --oracle-size "$top" --shuffled-copies "$shuffled" --threads 2 > "$run.finetune.json" 2> "$run.log"
    "$program" eval-summarize --weights "$run" --data "$files/test.jsonl" --top "$top" \
      --oracle-size "$top" > "$run.json.tmp"
    mv "$run.json.tmp" "$run.json"
    echo "$init seed $seed: $(cat "$run.json")"
  done
done
/usr/bin/python3 - "$out" "$seeds" "$top" "${inits[@]}" <<'PY'
import json, statistics, sys
out, seeds, top, inits = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
runs = {i: [json.load(open(f"{out}/{i}-{s}.json")) for s in range(1, seeds + 1)] for i in inits}
first = runs[inits[0]][0]
print(f"\n{first['documents']} test articles, top {top} sentence(s), "
      f"{first['sentences_cut']} sentences cut; ROUGE F1, mean ± std over {seeds} seeds")
print(f"{'system':<22} {'ROUGE-1':>15} {'ROUGE-2':>15} {'ROUGE-L':>15}")
def cell(values):
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):>8.4f} ± {std:.3f}"
for init in inits:
    print(f"{'bertc, ' + init:<22} " + " ".join(
        cell([r["bertc"][k] for r in runs[init]]) for k in ("rouge1", "rouge2", "rougeL")))
for base in ("lead", "oracle"):
    name = f"Lead-{top}" if base == "lead" else f"oracle ({top})"
    print(f"{name:<22} " + " ".join(f"{first[base][k]:>15.4f}" for k in ("rouge1", "rouge2", "rougeL")))
PY
