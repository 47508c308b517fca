//===- SummaryData.h - Documents for extractive summarisation ---*- C++ -*-===//
//
// A summarisation data file is JSONL, one document per line: {"text": ...}
// (split into sentences as corpora are, runtime/train/Corpus.h) or
// {"sentences": [...]}, and "summary" (the reference) where training or
// scoring needs it; a line that is not a JSON object is a document's plain
// text. A document becomes one row of a `summarize` program as
// BertSum lays it out: [CLS] sentence [SEP] for every sentence, segment ids
// alternating 0, 1, 0, ... by sentence, the positions of the [CLS] tokens,
// and per sentence the oracle's label (1: in the greedy ROUGE selection
// against the reference, runtime/train/Rouge.h). Sentences that do not fit
// the compiled sequence (or sentence slots) are cut and counted.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_SUMMARYDATA_H
#define BERTC_RUNTIME_TRAIN_SUMMARYDATA_H

#include "runtime/train/Rouge.h"
#include "runtime/train/Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bertc::rt {

struct SummaryDocument {
  std::vector<std::string> sentences;
  std::string summary; ///< The reference ("" when the file has none).
  std::string where;   ///< "path:line", for errors.
};

/// Reads `path`. Errors name the path, the line and the field: not JSON, no
/// "text" or "sentences", a sentence that is not a string, no "summary"
/// when `needSummary`, a document without sentences.
bool readSummaryDocuments(const std::string &path, bool needSummary,
                          std::vector<SummaryDocument> &out, std::string &error);

/// One document as a program row.
struct SummaryRow {
  std::vector<int32_t> ids, types; ///< [seq] at most.
  std::vector<int32_t> clsPositions; ///< One per sentence kept.
  std::vector<int32_t> labels;       ///< The oracle's 0/1 per sentence kept.
  int64_t kept = 0;                  ///< Sentences that fit; the rest are cut.
};

/// Lays `doc` out in `seq` tokens and at most `maxSentences` sentences; a
/// sentence fits whole or, the first one only, truncated to fill the
/// sequence. With `oracleLimit` > 0 the labels mark the oracle's selection
/// of at most that many sentences among those kept. Invalid UTF-8 is an
/// error naming the document and the sentence.
bool encodeDocument(const SummaryDocument &doc, const Tokenizer &tokenizer, const Vocab &vocab,
                    int64_t seq, int64_t maxSentences, int oracleLimit, SummaryRow &row,
                    std::string &error);

/// ROUGE-1/2/L F1 averaged over documents.
struct RougeMeans {
  double rouge1 = 0, rouge2 = 0, rougeL = 0;
  int64_t documents = 0;
};

/// The sentences `chosen` of `doc` (indices, any order) in document order,
/// joined by spaces: the summary they make.
std::string selectionText(const SummaryDocument &doc, const std::vector<int> &chosen);

/// The selections `chosen[d]` of documents d (selectionText) scored against
/// each reference; `each` (if given) gets every document's scores.
RougeMeans scoreSelections(const std::vector<SummaryDocument> &docs,
                           const std::vector<std::vector<int>> &chosen,
                           std::vector<RougeScores> *each = nullptr);

/// Lead-K: the first K sentences of each document.
std::vector<std::vector<int>> leadSelections(const std::vector<SummaryDocument> &docs, int k);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_SUMMARYDATA_H
