#!/usr/bin/env bash
# Compiles data/gradients.bertc with --step=gradients and compares the gradients
# with PyTorch autograd. Usage: check_gradients.sh BERTC
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$1" compile "$here/data/gradients.bertc" --task t --step=gradients --target cpu -o "$work/program"
/usr/bin/python3 "$here/check_gradients.py" "$work/program" "$work"
