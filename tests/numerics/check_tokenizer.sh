#!/usr/bin/env bash
# The compiled runtime's WordPiece tokenizer against an independent Python
# implementation, line by line over Moby Dick and recent State of the Union
# addresses (installed by scripts/install-data.sh) plus hard cases.
# Usage: check_tokenizer.sh BERTC DATA_DIR
set -euo pipefail
bertc="$1" data="$2"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bertc" compile "$here/../lit/runtime/Inputs/small.bertc" --task infer --target cpu -o "$work/program"
/usr/bin/python3 "$here/tokenizer_reference.py" "$work/program" "$data/vocab.txt" \
  "$data"/corpus/moby-dick/*.txt "$data"/corpus/sotu/20*.txt
