#!/usr/bin/env bash
# bertc's ROUGE against the independent Python implementation in
# rouge_reference.py, on Lead-3 and the 3-sentence oracle of every article
# of the Reuters summarisation test split (scripts/install-data.sh).
# Usage: check_rouge.sh BERTC DATA_DIR
set -euo pipefail
bertc="$1" data="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bertc" compile "$root/models/bert.bertc" --preset tiny --task summarize --step=forward \
  --batch 8 --seq 256 --target cpu -o "$work/summarize"
"$work/summarize" eval-summarize --data "$data/tasks/summarize-reuters/test.jsonl" \
  --vocab "$data/vocab.txt" --top 3 --oracle-size 3 --per-document "$work/per-document.jsonl"
/usr/bin/python3 "$here/rouge_reference.py" "$work/per-document.jsonl"
