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
#include "runtime/train/FinetuneLoop.h"

#include <cstdint>
#include <string>

namespace bertc::rt {

/// The settings every fine-tuning command shares (FinetuneLoop.h), and the
/// table's columns and the metric that picks the best epoch.
struct FinetuneConfig : FinetuneSettings {
  std::string textColumn, labelColumn;
  /// What chooses the best epoch: "accuracy", or "f1:LABEL", the F1 of one
  /// class (for imbalanced classes).
  std::string metric = "accuracy";
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
