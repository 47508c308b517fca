//===- Batch.h - JSONL batches into a program's inputs ----------*- C++ -*-===//
//
// One JSON object per line, one line per sequence:
//   {"input_ids": [101, 2023, 102], "token_type_ids": [0, 0, 0],
//    "attention_mask": [1, 1, 1]}
// Each key names a program input whose shape is [batch] (a number) or
// [batch, n] (a list of at most n numbers, padded). Sequences are padded to
// the compiled length with id 0 and mask 0; missing token types are 0;
// missing masks are 1 on the given tokens; label lists pad with -100. A file
// with fewer lines than the batch leaves the other rows as padding.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_BATCH_H
#define BERTC_RUNTIME_BATCH_H

#include "runtime/Session.h"

#include <string>

namespace bertc::rt {

/// Fills the session's inputs from `path`; errors name the file, the line and
/// the reason. Returns the number of sequences read.
bool loadBatch(const std::string &path, Session &session, std::string &error,
               int64_t *sequences = nullptr);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_BATCH_H
