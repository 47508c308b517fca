#!/usr/bin/env python3
"""Writes the benchmark tasks' fixed splits once, from the installed data.

Usage: make-tasks.py DATA_DIR   (scripts/install-data.sh runs it)

DATA_DIR/tasks/NAME/{train,dev,test}.EXT for each task, and
DATA_DIR/tasks/tasks.tsv, one line per task: name, file extension, text
column, label column, the metric (accuracy, or f1:LABEL for the F1 of that
class where the classes are imbalanced) and how the split was made.

  sentiment-sentences  Pang & Lee's 4,000 sentences (pang-lee.csv), 80/10/10
  sentiment-reviews    Pang & Lee's 1,500 full reviews, 80/10/10
  reuters-grain        Reuters-21578 Grain, ModApte: train (a tenth held out
  reuters-corn         as dev) and test as published; metric F1 of class 1
  spam                 SpamAssassin's 6,046 mails, 80/10/10

Each split is seeded (seed 1) and written to a temporary name, then renamed.
A dev or test text that also appears in train (after lower-casing and
collapsing blanks) is dropped, so no evaluation text is trained on; the
counts dropped are printed.

DATA_DIR/tasks/summarize-reuters/{train,dev,test}.jsonl: extractive
summarisation, one article per line as {"text": BODY, "summary": HEADLINE}:
the Reuters-21578 articles of the Grain and Corn files (each once), the
headline being the leading run of words without a lower-case letter, kept
when it has 2-25 words and the body at least 20 (a trailing "A", "I" or
initials like "U.S." belong to the body); ModApte train (a seeded
tenth held out as dev) and test. It is not a line of tasks.tsv (which lists
the classification tasks).

DATA_DIR/pretrain-extra/ gets more real prose for pretraining, unlabelled,
from the training splits only (so no dev or test text is ever pretrained
on): the full movie reviews (reviews.txt), the review sentences
(sentences.txt) and the Reuters article bodies (reuters.txt, each article
once, SGML entities decoded), one document per text, documents separated
by blank lines (the spam mails stay out: headers, markup and encodings
rather than prose); the token counts (words) are
printed. DATA_DIR/pretrain-heldout/reviews.txt holds the dev split's
reviews the same way, to score masked-LM prediction on unseen in-domain
text (pretrain --eval-corpus).
"""
import csv
import html
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arff  # noqa: E402

csv.field_size_limit(1 << 30)


def normalised(text):
    return re.sub(r"\s+", " ", text.lower()).strip()


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [r for r in csv.reader(f) if r]


def write_csv(path, rows):
    with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    os.replace(path + ".tmp", path)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, rows):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


def split(rows, text, train_share=0.8, dev_share=0.1):
    """Seeded train/dev/test; evaluation rows whose text is in train dropped."""
    order = list(range(len(rows)))
    random.Random(1).shuffle(order)
    n_train, n_dev = int(len(rows) * train_share), int(len(rows) * dev_share)
    parts = [[rows[i] for i in order[:n_train]], [rows[i] for i in order[n_train:n_train + n_dev]],
             [rows[i] for i in order[n_train + n_dev:]]]
    return dedupe(parts, text)


def dedupe(parts, text):
    seen = {normalised(text(r)) for r in parts[0]}
    kept, dropped = [parts[0]], 0
    for part in parts[1:]:
        keep = []
        for r in part:
            key = normalised(text(r))
            if key in seen:
                dropped += 1
                continue
            seen.add(key)  # Nor a dev text in test.
            keep.append(r)
        kept.append(keep)
    return kept, dropped


def headline_and_body(text):
    """The leading run of words without a lower-case letter, and the rest.
    A run ending in "A", "I" or initials ("U.S.") before a capitalised word
    gives them back: they open the body ("A survey of ...", "U.S. Officials
    said ...")."""
    words = text.split()
    n = 0
    while n < len(words) and not any(c.islower() for c in words[n]):
        n += 1
    while 0 < n < len(words) and (words[n - 1] in ("A", "I") or re.fullmatch(r"(?:[A-Z]\.)+", words[n - 1])):
        n -= 1
    return " ".join(words[:n]), " ".join(words[n:])


def write_summaries(data, folder):
    parts, seen, dropped = {"train": [], "test": []}, set(), 0
    for part in ("train", "test"):
        for topic in ("Grain", "Corn"):
            _, rows = arff.read(os.path.join(data, "reuters", f"Reuters{topic}-{part}.arff"))
            for r in rows:
                text = html.unescape(arff.values(r)[0]).replace("\x03", "").strip()
                if normalised(text) in seen:
                    continue
                seen.add(normalised(text))
                headline, body = headline_and_body(text)
                if 2 <= len(headline.split()) <= 25 and len(body.split()) >= 20:
                    parts[part].append({"text": body, "summary": headline})
                else:
                    dropped += 1
    train = parts["train"]
    order = list(range(len(train)))
    random.Random(1).shuffle(order)
    n_dev = len(train) // 10
    split = {"train": [train[i] for i in sorted(order[n_dev:])],
             "dev": [train[i] for i in sorted(order[:n_dev])], "test": parts["test"]}
    os.makedirs(folder, exist_ok=True)
    for part, rows in split.items():
        write_jsonl(os.path.join(folder, f"{part}.jsonl"), rows)
    print(f"make-tasks: summarize-reuters: train {len(split['train'])}, dev {len(split['dev'])}, "
          f"test {len(split['test'])} ({len(seen)} unique articles, {dropped} without a 2-25-word "
          f"headline and a 20-word body)")


def main():
    data = sys.argv[1]
    tasks = os.path.join(data, "tasks")
    lines = []  # Of tasks.tsv.
    splits = {}  # Task name: [train, dev, test] rows.

    def done(name, ext, text_col, label_col, metric, how, parts, dropped, write):
        splits[name] = parts
        folder = os.path.join(tasks, name)
        os.makedirs(folder, exist_ok=True)
        for part, rows in zip(("train", "dev", "test"), parts):
            write(os.path.join(folder, f"{part}.{ext}"), rows)
        lines.append("\t".join([name, ext, text_col, label_col, metric, how]))
        print(f"make-tasks: {name}: train {len(parts[0])}, dev {len(parts[1])}, test "
              f"{len(parts[2])} ({how}; {dropped} evaluation texts dropped: also in train)")

    for name, file in (("sentiment-sentences", "pang-lee.csv"),
                       ("sentiment-reviews", "pang-lee-reviews.csv")):
        rows = read_csv(os.path.join(data, "sentiment", file))
        parts, dropped = split(rows, lambda r: r[1])
        done(name, "csv", "1", "0", "accuracy", "seeded 80/10/10", parts, dropped, write_csv)
    for topic in ("Grain", "Corn"):
        header, train = arff.read(os.path.join(data, "reuters", f"Reuters{topic}-train.arff"))
        _, test = arff.read(os.path.join(data, "reuters", f"Reuters{topic}-test.arff"))
        order = list(range(len(train)))
        random.Random(1).shuffle(order)
        n_dev = len(train) // 10
        parts = [[train[i] for i in sorted(order[n_dev:])], [train[i] for i in sorted(order[:n_dev])],
                 test]
        parts, dropped = dedupe(parts, lambda r: arff.values(r)[0])
        done(f"reuters-{topic.lower()}", "arff", "Text", "class-att", "f1:1",
             "ModApte train and test, a seeded tenth of train as dev", parts, dropped,
             lambda path, rows: arff.write(path, header, rows))
    write_summaries(data, os.path.join(tasks, "summarize-reuters"))
    rows = read_jsonl(os.path.join(data, "spam", "spam.jsonl"))
    parts, dropped = split(rows, lambda r: r["text"])
    done("spam", "jsonl", "text", "label", "accuracy", "seeded 80/10/10", parts, dropped,
         write_jsonl)
    # Pretraining prose from the training splits alone, and held out: the
    # reviews of the dev split, for the masked-LM score of a pretraining run
    # (pretrain --eval-corpus); never pretrained on.
    extra = os.path.join(data, "pretrain-extra")
    heldout = os.path.join(data, "pretrain-heldout")
    seen, articles = set(), []
    for record in splits["reuters-grain"][0] + splits["reuters-corn"][0]:
        text = html.unescape(arff.values(record)[0]).replace("\x03", "").strip()
        if normalised(text) not in seen:
            seen.add(normalised(text))
            articles.append(text)
    documents = {
        os.path.join(extra, "reviews.txt"): [r[1] for r in splits["sentiment-reviews"][0]],
        # Each its own document: an instance pairs it with a random other
        # one (next-sentence label 1), never a false "next".
        os.path.join(extra, "sentences.txt"): [r[1] for r in splits["sentiment-sentences"][0]],
        os.path.join(extra, "reuters.txt"): articles,
        os.path.join(heldout, "reviews.txt"): [r[1] for r in splits["sentiment-reviews"][1]],
    }
    for path, texts in documents.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            for t in texts:
                text_lines = [l.strip() for l in t.split("\n") if l.strip()]
                f.write("\n".join(text_lines) + "\n\n")
        os.replace(path + ".tmp", path)
        words = sum(len(t.split()) for t in texts)
        print(f"make-tasks: {os.path.relpath(path, data)}: {len(texts)} documents, {words} words "
              f"(from {'the dev split' if path.startswith(heldout) else 'training splits only'})")

    with open(os.path.join(tasks, "tasks.tsv.tmp"), "w", encoding="utf-8") as f:
        f.write("name\text\ttext_column\tlabel_column\tmetric\tsplit\n" + "\n".join(lines) + "\n")
    os.replace(os.path.join(tasks, "tasks.tsv.tmp"), os.path.join(tasks, "tasks.tsv"))


if __name__ == "__main__":
    main()
