#!/usr/bin/env bash
# Installs what is missing, builds bertc and runs every test under ctest.
# Usage: scripts/test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
scripts/install-deps.sh
scripts/install-data.sh
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j2
