//===- Finetune.h - Sequence classification: train, eval, predict -*- C++ -*-===//
//
// Text classification with a compiled `classify` training step. Texts become
// [CLS] pieces [SEP], truncated to the compiled length; a last partial batch
// is padded (label -100, ignored by the loss). Evaluation and prediction run
// only the step's forward dispatches with dropout off, so nothing trains.
// Label values of any spelling are mapped to class ids in sorted order
// (numeric when all are numbers); the mapping is stored in the model file's
// metadata, so eval and predict answer in the user's spelling.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_FINETUNE_H
#define BERTC_RUNTIME_TRAIN_FINETUNE_H

#include "runtime/Compiled.h"
#include "runtime/train/Comm.h"

#include <cstdint>
#include <string>

namespace bertc::rt {

struct FinetuneConfig {
  /// A checkpoint (a file or a HuggingFace model directory; "" to start
  /// from random weights).
  std::string init;
  /// The vocabulary; "" takes the one in `init`'s model directory.
  std::string vocab;
  std::string train, dev; ///< dev "" : a tenth of train, held out by seed.
  std::string textColumn, labelColumn;
  std::string saveDir;
  int64_t epochs = 3;
  double lr = 5e-5;
  double warmupProportion = 0.1;
  uint64_t seed = 0;
  int patience = 2; ///< Epochs without a better dev metric before stopping.
  /// What chooses the best epoch: "accuracy", or "f1:LABEL", the F1 of one
  /// class (for imbalanced classes).
  std::string metric = "accuracy";
  DeviceChoice device;
  double dropout = 1.0;
  /// Micro-batches per step (a program compiled with --accumulate-gradients).
  int64_t accumulate = 1;
  /// The run's ranks (null: this process alone). A step takes batch x
  /// accumulate x ranks rows of the epoch's order: rank r's micro-batch j
  /// those from (r x accumulate + j) x batch, the last step's missing rows
  /// padding (label -100). Rank 0 alone evaluates, prints and saves.
  Communicator *comm = nullptr;
  /// The gradients summed over the ranks in buckets of about this many
  /// bytes overlapped with the backward pass (DataParallel); 0: in one
  /// allreduce after it.
  int64_t bucketBytes = 4'000'000;
};

bool finetune(const CompiledProgram &compiled, const FinetuneConfig &config, std::string &error);

/// Prints {"accuracy": ..., "f1": ..., "n": ..., "f1_by_label": {LABEL: ...}}
/// (f1: the mean over classes). `vocab` "" takes the one in the model
/// directory `weights` names.
bool evaluate(const CompiledProgram &compiled, const DeviceChoice &device,
              const std::string &weights, const std::string &vocab, const std::string &data,
              const std::string &textColumn, const std::string &labelColumn, std::string &error);

/// One JSON line per input line: {"label": ..., "probability": ...}.
bool predict(const CompiledProgram &compiled, const DeviceChoice &device,
             const std::string &weights, const std::string &vocab, const std::string &input,
             std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_FINETUNE_H
