#!/usr/bin/env bash
# Data-parallel pretraining against one process on the same global batch:
# BERT's pretraining step at batch G on 1 rank x 2 threads, and at batch G/2
# (--accumulate-gradients) on 2 ranks x 1 thread under mpirun, each for
# STEPS steps on the demo's State of the Union files from the same seed,
# ROUNDS rounds interleaved (the machine is shared). Prints each run's
# median tokens/s over its steps after the second, the ranks' median wait
# for each other and allreduce of the gradients per step, the ratio; then
# the 2 ranks again with the gradients summed in buckets of BUCKET_MB
# (default 4) overlapping the backward pass (--bucket-mb), with the bytes
# summed while it ran and the time blocked after it; and from these
# figures an estimate on paper for 8 and 64 nodes of this kind joined by
# 10 and 100 Gbit/s (a ring allreduce) and the batch per node at which the
# allreduce hides behind the backward pass.
# Usage: scripts/data-parallel-bench.sh [PRESET] [GLOBAL_BATCH] [STEPS] [ROUNDS] [OUT_DIR]
#        (default mini, 32, 12, 2, data-parallel-out; BUILD_DIR=build, BUCKET_MB=4)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-mini}" global="${2:-32}" steps="${3:-12}" rounds="${4:-2}"
out="${5:-data-parallel-out}"
bucket_mb="${BUCKET_MB:-4}"
build="${BUILD_DIR:-build}"
data="${BERTC_DATA:-$HOME/.cache/bertc/data}"
seq=128
command -v mpirun >/dev/null || { echo "data-parallel-bench.sh: no mpirun (scripts/install-deps.sh)" >&2; exit 2; }
scripts/install-data.sh "$data" >/dev/null
cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
rm -rf "$out"
mkdir -p "$out/corpus"
cp "$data"/corpus/sotu/*.txt "$out/corpus/"
grep -m1 'model name' /proc/cpuinfo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$build/bin/bertc" compile models/bert.bertc --preset "$preset" --task pretrain --batch "$global" \
  --seq "$seq" --target cpu -o "$out/one" 2>/dev/null
"$build/bin/bertc" compile models/bert.bertc --preset "$preset" --task pretrain \
  --batch $((global / 2)) --seq "$seq" --target cpu --accumulate-gradients -o "$out/two" 2>/dev/null
common=(--corpus "$out/corpus" --vocab "$data/vocab.txt" --steps "$steps" --warmup 2 --seed 1
  --dupe-factor 1)
# The instances once; every run reuses them.
"$out/one" pretrain "${common[@]}" --steps 1 --warmup 0 --save "$out/prepared" --threads 2 \
  >/dev/null 2>&1
run() { # NAME THREADS OPTIONS LAUNCH... PROGRAM
  local name="$1" threads="$2" options="$3"
  shift 3
  mkdir -p "$out/$name"
  cp -r "$out/prepared/data" "$out/$name/"
  # shellcheck disable=SC2086
  "$@" pretrain "${common[@]}" --threads "$threads" --save "$out/$name" $options \
    > "$out/$name.log" 2>&1
}
ranks=(mpirun --oversubscribe --bind-to core -np 2 "$out/two")
for r in $(seq "$rounds"); do
  run "one-$r" 2 "" "$out/one"
  run "two-$r" 1 "--bucket-mb 0" "${ranks[@]}"
  run "buckets-$r" 1 "--bucket-mb $bucket_mb" "${ranks[@]}"
done
params=$("$out/one" info | sed -n 's/^parameters: //p')
/usr/bin/python3 - "$out" "$rounds" "$global" "$seq" "$params" "$bucket_mb" <<'PY'
import json, statistics, sys
out, rounds, global_batch, seq, params = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
def run(name):
    rows = [json.loads(l) for l in open(f"{out}/{name}/metrics.jsonl") if l.strip()][2:]
    med = lambda k: statistics.median(r[k] for r in rows) if rows and k in rows[0] else 0.0
    return med("tokens_per_s"), med("wait_ms"), med("allreduce_ms"), med("overlapped_mb")
print(f"{'round':>5} {'1 rank x 2 threads':>18} {'2 ranks x 1 thread':>18} {'ratio':>6} "
      f"{'wait ms':>8} {'allreduce ms':>12} | {'2 x 1, buckets':>14} {'ratio':>6} "
      f"{'blocked ms':>10} {'overlapped MB':>13}")
one, two, buckets, allreduce, blocked, hidden = [], [], [], [], [], []
for r in range(1, rounds + 1):
    a, b, c = run(f"one-{r}"), run(f"two-{r}"), run(f"buckets-{r}")
    one.append(a[0]); two.append(b[0]); buckets.append(c[0])
    allreduce.append(b[2]); blocked.append(c[2]); hidden.append(c[3])
    print(f"{r:>5} {a[0]:>12.0f} tok/s {b[0]:>12.0f} tok/s {b[0] / a[0]:>6.3f} {b[1]:>8.1f} "
          f"{b[2]:>12.1f} | {c[0]:>8.0f} tok/s {c[0] / a[0]:>6.3f} {c[2]:>10.1f} {c[3]:>13.1f}")
t1, t2, tb = statistics.median(one), statistics.median(two), statistics.median(buckets)
ar = statistics.median(allreduce) / 1e3
print(f"median: 2 ranks x 1 thread / 1 rank x 2 threads = {t2 / t1:.3f} with one allreduce, "
      f"{tb / t1:.3f} with buckets of {sys.argv[6]} MB (goal 0.9)")
print(f"one allreduce of {params * 4 / 1e6:.1f} MB of gradients after the backward pass: "
      f"{ar * 1e3:.1f} ms per step ({ar / (global_batch * seq / t2) * 100:.1f}% of the step); "
      f"buckets: {statistics.median(hidden):.1f} MB summed while the backward pass ran, "
      f"{statistics.median(blocked):.1f} ms blocked after it")

# On paper: N nodes like this one (2 cores), each computing batch b, joined
# by a ring allreduce of the fp32 gradients: 2 (N-1)/N x bytes / bandwidth
# plus 2 (N-1) latencies of 20 us. The compute time per sequence is the one
# rank x 2 threads run's. bertc's step computes the weight gradients last,
# in forward order, each bucket final after its weights' product: the
# buckets overlap that phase, taken as a third of the step (the weight
# gradients' share of the matmuls), and the last bucket (the heads') is
# sent after it.
per_sequence = seq / t1
grad_bytes = params * 4
print(f"\nestimate: {per_sequence * 1e3:.1f} ms per sequence of {seq} per node; ring allreduce "
      f"of {grad_bytes / 1e6:.1f} MB")
print(f"{'nodes':>5} {'Gbit/s':>6} {'allreduce ms':>13} {'step ms, b=' + str(global_batch):>16} "
      f"{'efficiency':>10} {'buckets':>8} {'efficiency':>10} {'b hiding':>9}")
for nodes in (8, 64):
    for gbits in (10, 100):
        ring = lambda b: 2 * (nodes - 1) / nodes * b / (gbits * 1e9 / 8) + 2 * (nodes - 1) * 20e-6
        t_ar, t_last = ring(grad_bytes), ring(float(sys.argv[6]) * 1e6)
        compute = global_batch * per_sequence
        window = compute / 3
        bucketed = compute + max(0.0, t_ar - window) + t_last
        hide = t_ar / (per_sequence / 3)
        print(f"{nodes:>5} {gbits:>6} {t_ar * 1e3:>13.1f} {(compute + t_ar) * 1e3:>16.0f} "
              f"{compute / (compute + t_ar):>10.2f} {bucketed * 1e3:>8.0f} "
              f"{compute / bucketed:>10.2f} {hide:>9.0f}")
print("(step ms: compute, then one allreduce; buckets: the step with buckets overlapping the "
      "weight gradients; efficiency: compute over step time; b hiding: the batch per node "
      "whose weight-gradient phase lasts as long as the allreduce)")
PY
