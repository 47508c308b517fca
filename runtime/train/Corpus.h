//===- Corpus.h - Plain-text corpora, tokenized -----------------*- C++ -*-===//
//
// A corpus is a list of paths: text files, or folders whose regular files
// (all of them, below any depth, in name order) are read. Documents are
// separated by blank lines and by the end of a file. Each line is split into
// sentences after '.', '!' or '?' (and closing quotes or brackets) when a
// space and an upper-case letter or an opening quote follow, except after
// initials ("U.S.", "J.") and common titles and short forms ("Mr.", "Co.",
// "Jan."); one line per sentence, as in BERT's data recipe, needs no
// splitting.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_CORPUS_H
#define BERTC_RUNTIME_TRAIN_CORPUS_H

#include "runtime/train/Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bertc::rt {

/// A document: its sentences as WordPiece ids.
struct Document {
  std::vector<std::vector<int32_t>> sentences;
};

struct CorpusStats {
  int64_t files = 0, documents = 0, sentences = 0, tokens = 0, bytes = 0;
  uint64_t fingerprint = 0; ///< corpusFingerprint() of the files read.
};

/// The files a list of corpus paths names, in order. Errors name the path.
bool listCorpusFiles(const std::vector<std::string> &paths, std::vector<std::string> &files,
                     std::string &error);

/// A hash of the files' paths and sizes: tells whether data built from a
/// corpus is still current without reading it.
uint64_t corpusFingerprint(const std::vector<std::string> &files);

/// Reads and tokenizes the corpus. Errors name the file, the line and the
/// reason (unreadable, invalid UTF-8); a corpus without any text is an error.
bool readCorpus(const std::vector<std::string> &paths, const Tokenizer &tokenizer,
                std::vector<Document> &documents, CorpusStats &stats, std::string &error);

/// Splits one line into sentences (see the file comment).
std::vector<std::string> splitSentences(const std::string &line);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_CORPUS_H
