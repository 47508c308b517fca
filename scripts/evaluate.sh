#!/usr/bin/env bash
# Fine-tunes BERT on every benchmark task (the fixed splits of
# scripts/make-tasks.py) from CHECKPOINT and from random weights, over
# SEEDS seeds each, and prints each task's test metric as mean ± std beside
# the bag-of-words baseline (scripts/bow-baseline.py). Each run picks its
# best epoch by the task's dev metric (finetune --metric), then `eval`
# scores that model on the test split.
# Usage: scripts/evaluate.sh CHECKPOINT|none [PRESET] [SEEDS] [OUT_DIR]
#        (default tiny, 3, evaluate-out; BUILD_DIR=build; TASKS="a b" to
#        run some tasks only; EPOCHS, LR, BATCH override the recipe)
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint="$1" preset="${2:-tiny}" seeds="${3:-3}" out="${4:-evaluate-out}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
epochs="${EPOCHS:-4}" lr="${LR:-2e-4}" batch="${BATCH:-16}"
scripts/install-data.sh "$data" >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
mkdir -p "$out"
grep -m1 'model name' /proc/cpuinfo
inits=(random)
[ "$checkpoint" != none ] && inits=(pretrained random)
tasks="${TASKS:-$(tail -n +2 "$data/tasks/tasks.tsv" | cut -f1 | tr '\n' ' ')}"
# The sequence length per task: sentences are short, reviews long.
seq_of() { case "$1" in sentiment-sentences) echo 64 ;; sentiment-reviews) echo 256 ;; *) echo 128 ;; esac; }
for task in $tasks; do
  IFS=$'\t' read -r _ ext text label metric _ < <(grep -P "^$task\t" "$data/tasks/tasks.tsv")
  seq=$(seq_of "$task")
  program="$out/classify-$preset-$seq"
  [ -x "$program" ] || "$build/bin/bertc" compile models/bert.bertc --preset "$preset" \
    --task classify --batch "$batch" --seq "$seq" --target cpu -o "$program" 2>/dev/null
  files="$data/tasks/$task"
  for init in "${inits[@]}"; do
    for seed in $(seq "$seeds"); do
      run="$out/$task-$init-$seed"
      [ -f "$run.json" ] && continue # Done in an earlier call.
      rm -rf "$run"
      from=()
      [ "$init" = pretrained ] && from=(--init "$checkpoint")
      "$program" finetune "${from[@]}" --train "$files/train.$ext" --dev "$files/dev.$ext" \
        --text-column "$text" --label-column "$label" --vocab "$data/vocab.txt" --save "$run" \
        --epochs "$epochs" --lr "$lr" --seed "$seed" --metric "$metric" --threads 2 \
        > "$run.finetune.json" 2> "$run.log"
      "$program" eval --weights "$run/model.safetensors" --vocab "$data/vocab.txt" \
        --data "$files/test.$ext" --text-column "$text" --label-column "$label" > "$run.json.tmp"
      mv "$run.json.tmp" "$run.json"
      echo "$task $init seed $seed: $(cat "$run.json")"
    done
  done
done
# The floor, once per OUT_DIR and task (bow-baseline keeps what FILE has).
/usr/bin/python3 scripts/bow-baseline.py "$data" --json "$out/baseline.json" \
  --tasks "$(echo $tasks | tr ' ' ,)" >/dev/null
/usr/bin/python3 - "$out" "$data" "$seeds" $tasks <<'PY'
import json, statistics, sys
out, data, seeds, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
metrics = {l.split("\t")[0]: l.split("\t")[4] for l in open(f"{data}/tasks/tasks.tsv")}
baseline = json.load(open(f"{out}/baseline.json"))
def value(result, metric):
    return result["accuracy"] if metric == "accuracy" else result["f1_by_label"][metric[3:]]
print(f"\n{'task':<22} {'test metric':<11} {'pretrained':>15} {'random init':>15} {'bag of words':>12}")
means = {"pretrained": [], "random": []}
for task in tasks:
    metric, cells = metrics[task], []
    for init in ("pretrained", "random"):
        try:
            v = [value(json.load(open(f"{out}/{task}-{init}-{s}.json")), metric)
                 for s in range(1, seeds + 1)]
        except FileNotFoundError:
            cells.append(f"{'-':>15}")
            continue
        means[init].append(statistics.mean(v))
        std = statistics.stdev(v) if len(v) > 1 else 0.0
        cells.append(f"{statistics.mean(v):>8.4f} ± {std:.3f}")
    print(f"{task:<22} {metric:<11} {cells[0]:>15} {cells[1]:>15} {baseline[task]['test']:>12.4f}")
for init, v in means.items():
    if len(v) == len(tasks):
        print(f"mean over tasks, {init}: {statistics.mean(v):.4f}")
print(f"(mean ± std over {seeds} seeds of the test metric; the best epoch chosen on dev)")
PY
