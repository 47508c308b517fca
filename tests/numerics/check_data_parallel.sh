#!/usr/bin/env bash
# Data-parallel training on Open MPI against one process, on BERT-tiny
# (dropout off, the same seed). Pretraining on ten files of the demo's
# corpus:
#  - 2 ranks x batch 8, 1 rank x batch 8 x --accumulate 2 and 1 rank x
#    batch 16 over 10 steps: every step's losses within 1e-5 relative, the
#    weights after within 1e-4 of the largest entry of each tensor against
#    batch 16 (the attention key biases, moved by rounding noise alone, left
#    out), and bit-identical between 2 ranks and 2 micro-batches (the
#    same two sums); --check-ranks checks after every step that both ranks
#    hold the same parameters (a hash of them); buckets of 4 MB (the
#    default), of 0.25 MB and one allreduce (--bucket-mb 0) give the same
#    checkpoint byte for byte, and small buckets are summed while the
#    backward pass runs in most steps;
#  - a rank killed during training ends the job with an error within 30 s,
#    the newest checkpoint loads, and --resume on 2 ranks gives the same
#    checkpoint byte for byte as an uninterrupted run;
#  - fine-tuning on 400 sentiment sentences, one epoch: 2 ranks x batch 8
#    against 1 rank x batch 16, the same losses within 1e-5 relative and the
#    same saved model within 1e-4; likewise summarisation
#    (finetune-summarize, summarize_transformer) on 120 Reuters articles,
#    2 ranks x batch 4 and 2 micro-batches of 4 against batch 8;
#  - bad launches: different settings or programs on the ranks, a world too
#    large for the data, a program without gradient buffers, a resume with
#    another world size, no Open MPI library: a clear error and every rank
#    exits non-zero.
# Usage: check_data_parallel.sh BERTC DATA_DIR
set -euo pipefail
bertc="$1" data="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if ! command -v mpirun >/dev/null; then
  echo "skipped: no mpirun (scripts/install-deps.sh installs openmpi-bin)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun=(mpirun --oversubscribe --bind-to none)
mpi() { "${mpirun[@]}" "$@"; }
mkdir "$work/corpus"
cp "$data"/corpus/sotu/17*.txt "$work/corpus/"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task pretrain --batch 16 --seq 64 \
  --target cpu -o "$work/whole"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task pretrain --batch 8 --seq 64 \
  --target cpu --accumulate-gradients -o "$work/parts"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task pretrain --batch 8 --seq 32 \
  --target cpu --accumulate-gradients -o "$work/other"
common=(--corpus "$work/corpus" --vocab "$data/vocab.txt" --warmup 2 --lr 1e-3 --dropout 0
  --seed 1 --threads 1)
expect_error() { # NAME PATTERN COMMAND...: fails within 60 s, saying PATTERN
  local name="$1" pattern="$2" status=0
  shift 2
  timeout 60 "$@" > "$work/$name.log" 2>&1 || status=$?
  if [ "$status" -eq 0 ] || [ "$status" -eq 124 ] || ! grep -q -- "$pattern" "$work/$name.log"; then
    echo "FAIL: $name: exit $status, expected an error saying '$pattern':"
    cat "$work/$name.log"
    exit 1
  fi
  echo "$name: exit $status: $(grep -m1 -- "$pattern" "$work/$name.log")"
}

# The same global batch three ways.
"$work/whole" pretrain "${common[@]}" --steps 10 --save "$work/whole16" 2> /dev/null
"$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/accumulate" --accumulate 2 2> /dev/null
mpi -np 2 "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/ranks" --check-ranks \
  2> "$work/ranks.log"
grep -q "effective batch 16 = batch 8 x 1 micro-batches x 2 ranks" "$work/ranks.log"
/usr/bin/python3 - "$work" "$here" <<'PY'
import json, sys
work, here = sys.argv[1], sys.argv[2]
sys.path.insert(0, here)
from bert_reference import read_safetensors
def losses(name):
    return [json.loads(l) for l in open(f"{work}/{name}/metrics.jsonl") if l.strip()]
whole, acc, ranks = losses("whole16"), losses("accumulate"), losses("ranks")
assert len(whole) == len(acc) == len(ranks) == 10, (len(whole), len(acc), len(ranks))
worst = 0.0
for a, b, c in zip(whole, acc, ranks):
    for key in ("loss", "mlm_loss", "nsp_loss"):
        for other in (b, c):
            worst = max(worst, abs(other[key] - a[key]) / abs(a[key]))
print(f"losses of 10 steps, 1 x 8 x 2 and 2 ranks x 8 against 1 x 16: max rel diff {worst:.2e}")
assert worst <= 1e-5, worst
w, a, r = ({**read_safetensors(f"{work}/{n}/checkpoint/model.safetensors"),
            **read_safetensors(f"{work}/{n}/checkpoint/training-state.safetensors")}
           for n in ("whole16", "accumulate", "ranks"))
# The attention key biases have a zero gradient in exact arithmetic (softmax
# ignores a constant per row) and move by rounding noise alone: left out.
params = [k for k in w if not k.startswith("optimizer.") and "attention.self.key.bias" not in k]
assert params and set(w) == set(a) == set(r)
worst, where = 0.0, ""
for k in params:
    scale = float(w[k].double().abs().max()) or 1.0
    d = float((r[k].double() - w[k].double()).abs().max()) / scale
    if d > worst:
        worst, where = d, k
same = all(bool((a[k] == r[k]).all()) for k in w)
print(f"weights after 10 steps, 2 ranks vs batch 16: max rel diff {worst:.2e} ({where}); "
      f"2 ranks vs 2 micro-batches: {'bit-identical' if same else 'DIFFERENT'}")
assert worst <= 1e-4 and same
PY

# The 2 ranks above summed the gradients in buckets (the default, 4 MB)
# while the backward pass ran; one allreduce after it, or buckets of 0.25
# MB, make the same sums (two ranks: a + b either way), so the same
# checkpoint byte for byte. With the small buckets (BERT-tiny's backward
# pass is short) some completed before the backward pass ended in most
# steps: the overlap is real, Open MPI advanced them inside the progress
# calls between dispatches.
for mb in 0 0.25; do
  mpi -np 2 "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/buckets-$mb" \
    --check-ranks --bucket-mb "$mb" 2> /dev/null
  diff -r "$work/ranks/checkpoint" "$work/buckets-$mb/checkpoint"
done
/usr/bin/python3 - "$work" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/buckets-0.25/metrics.jsonl") if l.strip()]
hidden = [r["overlapped_mb"] for r in rows]
print("buckets of 4 MB, of 0.25 MB and one allreduce: the same checkpoint; with 0.25 MB, MB "
      "summed while the backward pass ran, per step: " + " ".join(f"{h:.2f}" for h in hidden))
assert len(hidden) == 10 and sum(h > 0 for h in hidden) >= 5, hidden
PY

# A rank killed: the job ends, the newest checkpoint loads, resume is exact.
mpi -np 2 "$work/parts" pretrain "${common[@]}" --steps 30 --save-every 2 --save "$work/straight" \
  2> /dev/null
mpi -np 2 "$work/parts" pretrain "${common[@]}" --steps 30 --save-every 2 --save "$work/killed" \
  > "$work/killed.log" 2>&1 &
job=$!
for _ in $(seq 600); do
  grep -qs '"step": 6,' "$work/killed/metrics.jsonl" && break
  sleep 0.1
done
# A rank (its command line starts with the program; mpirun's does not).
victim="$(pgrep -f "^$work/parts pretrain.*$work/killed" | tail -1)"
start=$(date +%s%N)
kill -9 "$victim"
status=0
timeout 60 tail --pid="$job" -f /dev/null || { echo "FAIL: the job still runs 60 s after a rank was killed"; exit 1; }
wait "$job" || status=$?
took_ms=$((($(date +%s%N) - start) / 1000000))
echo "a rank killed: mpirun exited with $status after $took_ms ms"
[ "$status" -ne 0 ] && [ "$took_ms" -lt 30000 ]
mpi -np 2 "$work/parts" pretrain "${common[@]}" --steps 30 --save-every 2 --save "$work/killed" \
  --resume 2> "$work/resume.log"
grep -m1 "resuming after step" "$work/resume.log"
diff -r "$work/straight/checkpoint" "$work/killed/checkpoint"
echo "resumed on 2 ranks: the checkpoint after 30 steps is byte for byte the uninterrupted run's"

# Fine-tuning: 2 ranks against the whole batch, and 2 micro-batches.
{ head -n 200 "$data/sentiment/pang-lee.csv"; tail -n 200 "$data/sentiment/pang-lee.csv"; } \
  > "$work/sentiment.csv"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task classify --batch 16 --seq 32 \
  --target cpu -o "$work/cls-whole"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task classify --batch 8 --seq 32 \
  --target cpu --accumulate-gradients -o "$work/cls-parts"
tune=(finetune --train "$work/sentiment.csv" --text-column 1 --label-column 0 --vocab "$data/vocab.txt"
  --epochs 1 --lr 1e-4 --seed 1 --dropout 0 --threads 1)
same_training() { # WHOLE OTHER WHAT: the losses within 1e-5, the saved models within 1e-4
  /usr/bin/python3 - "$work" "$here" "$@" <<'PY'
import json, sys
work, here, whole_run, other_run, what = sys.argv[1:6]
sys.path.insert(0, here)
from bert_reference import read_safetensors
def losses(name):
    return [json.loads(l)["loss"] for l in open(f"{work}/{name}/metrics.jsonl")
            if l.strip() and '"loss"' in l]
whole, other = losses(whole_run), losses(other_run)
assert len(whole) == len(other) > 10, (len(whole), len(other))
worst = max(abs(b - a) / abs(a) for a, b in zip(whole, other))
w = read_safetensors(f"{work}/{whole_run}/model.safetensors")
r = read_safetensors(f"{work}/{other_run}/model.safetensors")
assert set(w) == set(r)
params = [k for k in w if "attention.self.key.bias" not in k]
moved = max(float((r[k].double() - w[k].double()).abs().max()) /
            (float(w[k].double().abs().max()) or 1.0) for k in params)
print(f"{what}, {len(whole)} steps: losses max rel diff {worst:.2e}, saved model max rel diff "
      f"{moved:.2e}")
assert worst <= 1e-5 and moved <= 1e-4
PY
}
"$work/cls-whole" "${tune[@]}" --save "$work/tune16" > /dev/null 2>&1
mpi -np 2 "$work/cls-parts" "${tune[@]}" --save "$work/tune-ranks" > /dev/null 2> "$work/tune.log"
grep -q "effective batch 16 = batch 8 x 1 micro-batches x 2 ranks" "$work/tune.log"
same_training tune16 tune-ranks "fine-tuning, 2 ranks x 8 against 1 x 16"

# Summarisation (the same loop): 2 ranks and 2 micro-batches against the
# whole batch, on 120 Reuters articles, one epoch.
head -n 120 "$data/tasks/summarize-reuters/train.jsonl" > "$work/articles.jsonl"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task summarize_transformer --batch 8 \
  --seq 64 --target cpu -o "$work/sum-whole"
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task summarize_transformer --batch 4 \
  --seq 64 --target cpu --accumulate-gradients -o "$work/sum-parts"
summarize=(finetune-summarize --train "$work/articles.jsonl" --vocab "$data/vocab.txt" --epochs 1
  --lr 1e-4 --seed 1 --dropout 0 --top 1 --oracle-size 1 --threads 1)
"$work/sum-whole" "${summarize[@]}" --save "$work/sum8" > /dev/null 2>&1
"$work/sum-parts" "${summarize[@]}" --save "$work/sum-accumulate" --accumulate 2 > /dev/null 2>&1
mpi -np 2 "$work/sum-parts" "${summarize[@]}" --save "$work/sum-ranks" > /dev/null \
  2> "$work/sum.log"
grep -q "effective batch 8 = batch 4 x 1 micro-batches x 2 ranks" "$work/sum.log"
same_training sum8 sum-accumulate "summarisation, 2 micro-batches x 4 against 1 x 8"
same_training sum8 sum-ranks "summarisation, 2 ranks x 4 against 1 x 8"

# Bad launches.
expect_error resume-other-world "written by a run of 2 ranks, this one has 1" \
  "$work/parts" pretrain "${common[@]}" --steps 30 --save "$work/killed" --resume
expect_error other-settings "rank 1 of 2 run a different program or settings from rank 0" \
  "${mpirun[@]}" -np 1 "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/bad1" : \
  -np 1 "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/bad1" --lr 2e-3
expect_error other-program "rank 1 of 2 run a different program or settings from rank 0" \
  "${mpirun[@]}" -np 1 "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/bad2" : \
  -np 1 "$work/other" pretrain "${common[@]}" --steps 10 --save "$work/bad2"
expect_error world-too-large "fewer than one step's batch" \
  "${mpirun[@]}" -np 2 "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/bad3" \
  --accumulate 400
expect_error no-gradient-buffers "need a program compiled with --accumulate-gradients" \
  "${mpirun[@]}" -np 2 "$work/whole" pretrain "${common[@]}" --steps 10 --save "$work/bad4"
expect_error no-open-mpi "Open MPI cannot be opened" \
  env OMPI_COMM_WORLD_SIZE=2 BERTC_MPI_LIBRARY=/nonexistent/libmpi.so.40 \
  "$work/parts" pretrain "${common[@]}" --steps 10 --save "$work/bad5"
echo "ok"
