#!/usr/bin/env bash
# Fuzzes the model-file front end with libFuzzer for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 300)
# Builds with clang-19 in build-fuzz/, seeds the corpus from models/ and the
# lit tests' model files, and leaves crashes (if any) in fuzz-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
scripts/install-deps.sh fuzz
cmake -G Ninja -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DBERTC_ENABLE_FUZZERS=ON >/dev/null
cmake --build build-fuzz --target bertc-parser-fuzzer bertc-graph-fuzzer

mkdir -p fuzz-out/corpus fuzz-out/crashes
cp models/*.bertc tests/lit/dsl/*.bertc tests/lit/errors/*.bertc fuzz-out/corpus/
status=0
for target in parser graph; do
  echo "== bertc-$target-fuzzer for ${seconds}s"
  build-fuzz/bin/bertc-$target-fuzzer fuzz-out/corpus \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=8192 \
    -artifact_prefix=fuzz-out/crashes/$target- -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|artifact_prefix)" || true
  if ls fuzz-out/crashes/$target-* >/dev/null 2>&1; then
    echo "bertc-$target-fuzzer found problems: $(ls fuzz-out/crashes/$target-*)"
    status=1
  fi
done
exit $status
