//===- Summarize.h - Extractive summarisation with a compiled program -*- C++ -*-===//
//
// The commands of a program compiled from BERT's `summarize` or
// `summarize_transformer` task:
//   finetune-summarize  trains the sentence scorer (and the encoder) on
//                       documents with reference summaries, each sentence
//                       labelled by the ROUGE oracle; the best epoch by the
//                       dev ROUGE of the top K sentences is saved as a
//                       HuggingFace-style model directory (the loop of
//                       runtime/train/FinetuneLoop.h: micro-batches and
//                       mpirun's ranks as for finetune);
//   summarize           the top K sentences of each document, in document
//                       order;
//   eval-summarize      ROUGE-1/2/L F1 of those against the references,
//                       beside Lead-K and the oracle (the ceiling).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_SUMMARIZE_H
#define BERTC_RUNTIME_TRAIN_SUMMARIZE_H

#include "runtime/Compiled.h"
#include "runtime/train/FinetuneLoop.h"

#include <cstdint>
#include <string>

namespace bertc::rt {

/// The settings every fine-tuning command shares (FinetuneLoop.h), and the
/// summaries' own.
struct SummarizeConfig : FinetuneSettings {
  int top = 3;        ///< Sentences a summary keeps.
  int oracleSize = 3; ///< Sentences the oracle may label 1.
  int shuffledCopies = 0; ///< Extra copies of each training document, its
                          ///< sentences in a random order.
};

bool finetuneSummarize(const CompiledProgram &compiled, const SummarizeConfig &config,
                       std::string &error);

/// One JSON line per document of `input` ("-": standard input):
/// {"sentences": [indices], "summary": TEXT}.
bool summarize(const CompiledProgram &compiled, const DeviceChoice &device,
               const std::string &weights, const std::string &vocab, const std::string &input,
               int top, std::string &error);

/// Prints {"documents", "sentences_cut", "top", "bertc": {"rouge1", "rouge2",
/// "rougeL"} (with `weights`), "lead": {...}, "oracle": {...}}; with
/// `perDocument`, one JSON line per document there: each system's chosen
/// sentences and scores.
bool evalSummarize(const CompiledProgram &compiled, const DeviceChoice &device,
                   const std::string &weights, const std::string &vocab, const std::string &data,
                   int top, int oracleSize, const std::string &perDocument, std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_SUMMARIZE_H
