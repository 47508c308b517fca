#!/usr/bin/env bash
# Builds, on this machine, everything the Vulkan check on a GPU needs, into
# one folder that travels to the GPU's machine (which may lack a package
# registry, the Vulkan loader and oneTBB), where DIR/run.sh runs it:
#   pretrain-PRESET   BERT's pretrain task per preset, compiled
#                     --target cpu,vulkan at BATCH x SEQ for the workgroup
#                     sizes WORKGROUP_SIZES, CPU code for CPU (any x86-64
#                     with AVX2 by default)
#   batch.jsonl       one batch of BATCH pretraining rows of SEQ tokens
#   numerics/         BERT-tiny's infer and pretrain programs at batch 4,
#                     seq 32 and tests/numerics' comparison of a Vulkan
#                     device against the CPU (vulkan_vs_cpu.sh)
#   debs/             libvulkan1 (the loader), libtbb12 and libtbbmalloc2
#                     (oneTBB) and libglvnd0 (libGLdispatch, which NVIDIA's
#                     Vulkan driver loads) as Debian packages (apt-get
#                     download; where that fails, the libraries installed
#                     here, in debs/lib)
#   run.sh, check.py, torch_train_bench.py, settings
# Usage: tests/bench/gpu/prepare.sh [DIR]   (default gpu-check, git-ignored)
#   PRESETS (default "tiny mini"), BATCH (32), SEQ (128), WORKGROUP_SIZES
#   (64,256), CPU (x86-64-v3), BUILD_DIR (build), BERTC (a bertc already
#   built; default: BUILD_DIR's, built first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
dir="$(realpath -m "${1:-$root/gpu-check}")"
build="$(realpath -m "${BUILD_DIR:-$root/build}")"
presets="${PRESETS:-tiny mini}" batch="${BATCH:-32}" seq="${SEQ:-128}"
sizes="${WORKGROUP_SIZES:-64,256}" cpu="${CPU:-x86-64-v3}"
bertc="${BERTC:-}"
if [ -z "$bertc" ]; then
  cmake --build "$build" --target bertc BertcRuntimeMain >/dev/null
  bertc="$build/bin/bertc"
fi
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/numerics/data"
compile() {
  "$bertc" compile "$root/models/bert.bertc" --target cpu,vulkan --cpu "$cpu" \
    --workgroup-size "$sizes" "$@" 2>/dev/null
}
for preset in $presets; do
  compile --preset "$preset" --task pretrain --batch "$batch" --seq "$seq" -o "$dir/pretrain-$preset"
done
compile --preset tiny --task infer --batch 4 --seq 32 -o "$dir/numerics/infer-tiny"
compile --preset tiny --task pretrain --batch 4 --seq 32 -o "$dir/numerics/train-tiny"
cp "$root"/tests/numerics/{vulkan_vs_cpu.sh,compare_devices.py,bert_reference.py} "$dir/numerics/"
cp "$root"/tests/numerics/data/{infer.jsonl,train_pretrain.jsonl} "$dir/numerics/data/"
cp "$root"/tests/bench/gpu/{run.sh,check.py} "$root/tests/bench/torch_train_bench.py" "$dir/"
# One batch: [CLS] A [SEP] B [SEP] of random word pieces, 15% of the
# positions masked (at most the program's masked-position slots).
/usr/bin/python3 - "$batch" "$seq" > "$dir/batch.jsonl" <<'PY'
import json, random, sys
batch, seq = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(1)
for row in range(batch):
    ids = [101] + [rng.randrange(1000, 29000) for _ in range(seq - 2)] + [102]
    ids[seq // 2] = 102
    types = [0] * (seq // 2 + 1) + [1] * (seq - seq // 2 - 1)
    labels = [-100] * seq
    for p in rng.sample([p for p in range(1, seq - 1) if p != seq // 2], max(1, seq * 15 // 100)):
        labels[p], ids[p] = ids[p], 103
    print(json.dumps({"input_ids": ids, "token_type_ids": types, "labels": labels,
                      "next_sentence_label": row % 2}))
PY
packages=(libvulkan1 libtbb12 libtbbmalloc2 libglvnd0)
if ! (cd "$dir/debs" && apt-get download "${packages[@]}" >/dev/null 2>&1); then
  echo "prepare.sh: apt-get download ${packages[*]} failed; carrying the libraries installed here" >&2
  rm -f "$dir"/debs/*.deb
  mkdir -p "$dir/debs/lib"
  for package in "${packages[@]}"; do
    dpkg -L "$package" 2>/dev/null | grep -E '\.so[.0-9]*$' | xargs -r cp -P -t "$dir/debs/lib" || true
  done
fi
cat > "$dir/settings" <<SETTINGS
presets="$presets"
batch=$batch
seq=$seq
SETTINGS
echo "prepare.sh: $dir, $(du -sh "$dir" | cut -f1) (the device tool carries 64 MiB at most)"
