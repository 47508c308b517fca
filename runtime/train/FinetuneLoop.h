//===- FinetuneLoop.h - The loop every fine-tuning command shares -*- C++ -*-===//
//
// Fine-tuning a compiled training step on a task's rows, whatever the task:
// the session opened on every rank and initialised (random weights from the
// seed, then --init's checkpoint), epochs of shuffled rows in steps of
// batch x accumulate x ranks rows with the learning rate warmed up and
// decayed linearly, the dev set scored after each epoch, the best epoch's
// parameters saved as a HuggingFace model directory, and an early stop
// after `patience` epochs without a better score. The task says how its rows
// fill a micro-batch and how an epoch is scored (classification:
// runtime/train/Finetune.h; summarisation: runtime/train/Summarize.h).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_FINETUNELOOP_H
#define BERTC_RUNTIME_TRAIN_FINETUNELOOP_H

#include "runtime/Compiled.h"
#include "runtime/train/Comm.h"
#include "runtime/train/Random.h"
#include "runtime/train/Tokenizer.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bertc::rt {

/// What every fine-tuning command is told on its command line.
struct FinetuneSettings {
  /// A checkpoint (a file or a HuggingFace model directory; "" to start
  /// from random weights).
  std::string init;
  /// The vocabulary; "" takes the one in `init`'s model directory.
  std::string vocab;
  std::string train, dev; ///< dev "" : a tenth of train, held out by seed.
  std::string saveDir;
  int64_t epochs = 3;
  double lr = 5e-5;
  double warmupProportion = 0.1;
  uint64_t seed = 0;
  int patience = 2; ///< Epochs without a better dev score before stopping.
  DeviceChoice device;
  double dropout = 1.0;
  /// Micro-batches per step (a program compiled with --accumulate-gradients).
  int64_t accumulate = 1;
  /// The run's ranks (null: this process alone). A step takes batch x
  /// accumulate x ranks rows of the epoch's order: rank r's micro-batch j
  /// those from (r x accumulate + j) x batch, the last step's missing rows
  /// padding. Rank 0 alone prints and saves.
  Communicator *comm = nullptr;
  /// The gradients summed over the ranks in buckets of about this many
  /// bytes overlapped with the backward pass (DataParallel); 0: in one
  /// allreduce after it.
  int64_t bucketBytes = 4'000'000;
};

/// A dev score after an epoch.
struct EpochScore {
  double value = 0; ///< Higher is better; picks the epoch saved.
  std::string text; ///< For the log: "dev accuracy 0.91 ...".
  /// Saved with the parameters (beside "task" and "epoch").
  std::map<std::string, std::string> metadata;
  /// The JSON line printed at the end (rank 0) if this epoch is the best.
  std::string report;
};

/// A score as the logs and reports print it: 4 decimals ("0.6850").
std::string fourDecimals(double value);

/// A task's side of the loop.
struct FinetuneTask {
  std::string command; ///< Names the log lines: "finetune".
  std::string metric;  ///< What EpochScore::value is, for the log: "accuracy".
  size_t rows = 0;     ///< Training rows, shuffled each epoch.
  int64_t batch = 0;   ///< Rows per micro-batch (the program's).
  int64_t seq = 0;     ///< Tokens per row (for tokens/s).
  int loss = -1;       ///< The loss output's tensor.
  /// The task's data and settings, which every rank must share.
  std::string identity;
  /// Labels for the model directory's config.json (none: {}).
  std::vector<std::string> labels;
  /// Writes the micro-batch of rows order[begin], order[begin + 1], ...
  /// (padding past the end).
  std::function<void(Session &, const std::vector<size_t> &order, size_t begin)> fill;
  /// Scores the dev set with the session's current parameters after
  /// `epoch` (every rank runs it: their parameters are the same).
  std::function<EpochScore(Session &, int64_t epoch)> evaluate;
};

/// Trains `task` as the header says, from `settings.seed`'s weights, each
/// epoch's order drawn from `rng`, and prints (rank 0) the report of the
/// epoch saved in settings.saveDir. Errors: the
/// ranks' data or settings differing, fewer rows than ranks, micro-batches
/// or ranks with a program compiled without --accumulate-gradients, the
/// checkpoint, the device, writing the directory.
bool runFinetune(const CompiledProgram &compiled, const Vocab &vocab,
                 const FinetuneSettings &settings, const FinetuneTask &task, Random &rng,
                 std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_FINETUNELOOP_H
