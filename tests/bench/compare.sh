#!/usr/bin/env bash
# bertc's generated CPU code beside PyTorch on this machine, in one run:
# the FMA peak, the products of every linear layer of BERT-mini and
# BERT-base training in their three forms (GFLOP/s, ratio, % of the 2-thread
# peak) in fp32 and bf16, the BERT-mini forward in sequences/s and
# the BERT-mini training steps (pretrain, classify, pretrain in bf16 against
# PyTorch's bf16 autocast; batch 32, seq 128) in tokens/s with their memory, 2 threads each, two interleaved rounds,
# medians reported with the ratio.
# Usage: tests/bench/compare.sh [BUILD_DIR]   (default: build)
# BENCH_CPU=NAME compiles bertc's programs with --cpu NAME (e.g. x86-64-v3:
# the AVX2 variant on an AVX-512 machine).
# BENCH_FILTER=REGEX runs only the bertc benchmarks it matches (e.g.
# 'FmaPeak|Linear'), and PyTorch's training steps only when it matches them.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
cmake --build "$build" --target bertc-bench-cpu >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# PyTorch on OpenBLAS (OpenMP flavour), not Debian's reference BLAS.
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 BENCH_THREADS=2
# glibc hands PyTorch's large tensors back to the kernel on free and
# page-faults them in again on the next allocation, which on some machines
# (virtual machines above all) costs PyTorch more than its arithmetic: keep
# freed memory in the process, as a tuned deployment (or jemalloc) would.
torch_malloc=(MALLOC_MMAP_THRESHOLD_=4294967295 MALLOC_TRIM_THRESHOLD_=68719476736
              MALLOC_TOP_PAD_=1073741824)
filter="${BENCH_FILTER:-.}"
for round in 1 2; do
  "$build/bin/bertc-bench-cpu" --benchmark_filter="$filter" --benchmark_format=json \
    --benchmark_out="$work/bertc-$round.json" --benchmark_out_format=json \
    >/dev/null 2>"$work/bertc-$round.log"
  env "${torch_malloc[@]}" /usr/bin/python3 tests/bench/torch_bench.py > "$work/torch-$round.json"
  if [[ BM_BertMiniTrainStep =~ $filter ]]; then
    env "${torch_malloc[@]}" /usr/bin/python3 tests/bench/torch_train_bench.py > "$work/torch-train-$round.json"
  fi
done
# PyTorch's memory with the default allocator, which holds less than the one
# tuned for speed above.
if [[ BM_BertMiniTrainStep =~ $filter ]]; then
  /usr/bin/python3 tests/bench/torch_train_bench.py > "$work/torch-memory.json"
fi
/usr/bin/python3 - "$work" <<'PY'
import json, statistics, sys, glob
work = sys.argv[1]
bertc = {}
memory = {}
for path in sorted(glob.glob(f"{work}/bertc-*.json")):
    for b in json.load(open(path))["benchmarks"]:
        if b.get("error_occurred"):  # skipped: the CPU lacks the instructions
            continue
        key = b["name"].split("/iterations")[0]
        value = b.get("GFLOP/s", b.get("sequences/s", b.get("tokens/s")))
        bertc.setdefault(key, []).append(value)
        if "planned_peak_MB" in b:
            memory[key] = b["planned_peak_MB"]
torch_runs = [json.load(open(p)) for p in sorted(glob.glob(f"{work}/torch-[0-9]*.json"))]
train_runs = [json.load(open(p)) for p in sorted(glob.glob(f"{work}/torch-train-*.json"))]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
import os
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
print(f"CPU: {cpu} ({isa}{', AMX' if 'amx_tile' in flags else ''}); bertc compiled with --cpu {os.environ.get('BENCH_CPU', 'native')}")
peaks = {k: statistics.median(v) for k, v in bertc.items() if k.startswith("BM_FmaPeak")}
for name, value in peaks.items():
    print(f"{name + ' (GFLOP/s)':44s} {value:10.1f}")
peak = max((v for k, v in peaks.items() if "threads:2" in k), default=float("nan"))
print()
print(f"{'linear layer: form T in out':44s} {'bertc':>10s} {'pytorch':>10s} {'ratio':>7s} {'% peak':>7s}")
def linear_table(prefix, torch_key, scale):
    for name, values in bertc.items():
        if name.split("/")[0] != prefix:
            continue
        form = name.split("/")[1]
        parts = dict(p.split(":") for p in name.split("/")[2:] if ":" in p)
        key = f"{form} {parts['T']} {parts['in']} {parts['out']}"
        ours = statistics.median(values)
        ref = statistics.median(r[torch_key][key] for r in torch_runs)
        share = f"{100 * ours / (scale * peak):6.0f}%" if peak == peak else "      -"  # no probe run
        print(f"{key:44s} {ours:10.1f} {ref:10.1f} {ours / ref:7.2f} {share}")
linear_table("BM_Linear", "linear", 1)
if any(n.startswith("BM_LinearBf16/") for n in bertc):
    print()
    print("bf16 operands (bertc: the matmul kernel alone; pytorch: bf16 tensors, oneDNN);")
    print("% of twice the fp32 peak, the vdpbf16ps rate on paper")
    print(f"{'linear layer: form T in out':44s} {'bertc':>10s} {'pytorch':>10s} {'ratio':>7s} {'% peak':>7s}")
    linear_table("BM_LinearBf16", "linear_bf16", 2)
others = [n for n in bertc if not n.startswith(("BM_Linear", "BM_FmaPeak"))]
if others:
    print()
    print(f"{'benchmark':44s} {'bertc':>10s} {'pytorch':>10s} {'ratio':>7s}")
for name in others:
    values = bertc[name]
    if name.startswith("BM_BertMiniTrainStep"):
        task = name.split("/")[1]
        ref = statistics.median(r[task]["tokens/s"] for r in train_runs)
        unit = "tokens/s"
    else:
        ref = statistics.median(r["mini"] for r in torch_runs)
        unit = "seq/s"
    ours = statistics.median(values)
    print(f"{name + ' (' + unit + ')':44s} {ours:10.1f} {ref:10.1f} {ours / ref:7.2f}")
if not memory:
    sys.exit(0)
memory_run = json.load(open(f"{work}/torch-memory.json"))
print()
print(f"{'training step memory (MB)':44s} {'bertc':>10s} {'pytorch':>10s} {'ratio':>7s}")
for name, ours in memory.items():
    task = name.split("/")[1]
    ref = memory_run[task]["peak_rss_growth_bytes"] / (1 << 20)
    print(f"{name:44s} {ours:10.1f} {ref:10.1f} {ours / ref:7.2f}")
print("(bertc: planned parameters, optimizer state and activation arena, all of it allocated;")
print(" pytorch: growth of the process's peak resident set over the steps, default allocator)")
PY
