#!/usr/bin/env python3
"""An independent WordPiece tokenizer (google-research/bert's algorithm on
Python's unicodedata and str.lower) compared line by line with a bertc
program's `tokenize` command.

    tokenizer_reference.py PROGRAM VOCAB TEXT_FILE...

Every line of every file (plus a set of hard cases) is tokenized by both;
prints the number of lines and tokens compared and the first differences,
and exits 1 on any difference.
"""
import subprocess
import sys
import tempfile
import unicodedata

HARD_CASES = [
    " \tHeLLo!how  \n Are yoU?  ".replace("\n", " "),
    "Crème BRÛLÉE, naïve café — façade",
    "ah博推zz 日本語のテキスト",
    "Ελληνικά ΟΔΟΣ Σ",
    "한국어 텍스트",
    "emoji 💩 and symbols © ® ™ § ¶",
    "tabs\tand\u00a0no-break\u2003em spaces",
    "x" * 201 + " " + "y" * 200,
    "İstanbul ǅemal ﬁnance Straße",
    "'quotes' \"double\" «guillemets» ‹single›",
    "numbers 3.14159 1,000,000 -42 +7 1e-5",
]


def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def is_punctuation(c):
    cp = ord(c)
    return (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126
            or unicodedata.category(c).startswith("P"))


def is_cjk(cp):
    return any(a <= cp <= b for a, b in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
                                         (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
                                         (0x2B820, 0x2CEAF), (0xF900, 0xFAFF),
                                         (0x2F800, 0x2FA1F)])


def basic(text):
    text = "".join(" " if is_whitespace(c) else c for c in text
                   if not (ord(c) == 0 or ord(c) == 0xFFFD or is_control(c)))
    text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
    out = []
    for token in text.split(" "):
        if not token:
            continue
        token = unicodedata.normalize("NFD", token.lower())
        token = "".join(c for c in token if unicodedata.category(c) != "Mn")
        word = ""
        for c in token:
            if is_punctuation(c):
                if word:
                    out.append(word)
                out.append(c)
                word = ""
            else:
                word += c
        if word:
            out.append(word)
    return out


def wordpiece(word, vocab):
    if len(word) > 200:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = ("##" if start else "") + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def main():
    program, vocab_path, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    vocab = set(open(vocab_path, encoding="utf-8").read().split("\n")) - {""}
    lines = list(HARD_CASES)
    for path in files:
        lines += open(path, encoding="utf-8").read().split("\n")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        run = subprocess.run([program, "tokenize", "--vocab", vocab_path, "--input", f.name],
                             check=True, capture_output=True, text=True, encoding="utf-8")
    got = run.stdout.split("\n")[:-1]
    if len(got) != len(lines):
        print(f"{len(got)} lines of tokens for {len(lines)} lines of text")
        return 1
    bad = tokens = 0
    for line, ours in zip(lines, got):
        ref = [p for w in basic(line) for p in wordpiece(w, vocab)]
        tokens += len(ref)
        if ours.split(" ") != ref and not (ours == "" and not ref):
            bad += 1
            if bad <= 5:
                print(f"line {line[:80]!r}\n  bertc:     {ours[:200]}\n  reference: {' '.join(ref)[:200]}")
    print(f"{len(lines)} lines, {tokens} tokens: {bad} lines differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
