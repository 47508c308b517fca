//===- Pretrain.h - The pretraining loop of a compiled program --*- C++ -*-===//
//
// `PROGRAM pretrain`: builds (or reuses) the corpus's instance shards in
// SAVE_DIR/data, then runs training steps over them in order, cycling, with
// a linear warm-up and linear decay of the learning rate. Every `saveEvery`
// steps and at the end it writes SAVE_DIR/checkpoint, a HuggingFace model
// directory (model.safetensors with the parameters under HuggingFace names,
// config.json, vocab.txt, tokenizer_config.json) with the AdamW moments
// and, in their metadata, the step, the data position and the run's
// settings in training-state.safetensors; the directory is replaced whole,
// atomically. `resume` continues from it exactly: dropout masks depend only on the seed and the
// step, the data on the position, so an interrupted run resumed gives the
// same weights bit for bit as one that was not. Data-parallel (mpirun):
// rank 0 builds the data and alone prints, logs and writes checkpoints,
// which also hold the world size and each rank's data position; a resume
// needs the same world size.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_PRETRAIN_H
#define BERTC_RUNTIME_TRAIN_PRETRAIN_H

#include "runtime/Compiled.h"
#include "runtime/train/Comm.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bertc::rt {

struct PretrainConfig {
  std::vector<std::string> corpus;
  std::string vocab;
  std::string saveDir;
  /// A checkpoint to start from (a file or a HuggingFace model directory;
  /// what it lacks is initialised from the seed); "" : all from the seed.
  /// A resume ignores it.
  std::string init;
  int64_t steps = 1000;
  double lr = 1e-4;
  int64_t warmup = 100;
  uint64_t seed = 0;
  int64_t saveEvery = 0; ///< 0: only at the end.
  bool resume = false;
  DeviceChoice device;
  double dropout = 1.0;  ///< Factor on the model's dropout rates.
  int64_t stopAfter = 0; ///< Stop after this step as an interruption would (0: never).
  int dupeFactor = 10;
  /// Mask whole words (a token and the "##" pieces after it) together.
  bool wholeWordMask = false;
  /// Micro-batches per step, their gradients summed before one update (a
  /// program compiled with --accumulate-gradients).
  int64_t accumulate = 1;
  /// The run's ranks (null: this process alone). Each step reads batch x
  /// accumulate x ranks consecutive instances: rank r's micro-batch j the
  /// batch at (r x accumulate + j) x batch, so every world size and
  /// accumulation of the same global batch sees the same instances.
  Communicator *comm = nullptr;
  /// After every step, check that all ranks hold bit-identical parameters
  /// (a hash of them compared with rank 0's; an error names the ranks that
  /// differ).
  bool checkRanks = false;
  /// Every `evalEvery` steps and at the end (0: never), the masked-LM loss
  /// and accuracy on held-out text: instances made once (dupe factor 1)
  /// from `evalCorpus` into SAVE_DIR/eval-data, the first `evalBatches`
  /// batches of them, forward passes with dropout off, on rank 0.
  std::vector<std::string> evalCorpus;
  int64_t evalEvery = 0;
  int64_t evalBatches = 8;
  /// The gradients summed over the ranks in buckets of about this many
  /// bytes overlapped with the backward pass (DataParallel); 0: in one
  /// allreduce after it.
  int64_t bucketBytes = 4'000'000;
};

/// Learning rate at step `t` (1-based) of `steps`: `peak * t / warmup`
/// during warm-up, then `peak * (steps - t) / (steps - warmup)`.
double linearSchedule(double peak, int64_t t, int64_t warmup, int64_t steps);

/// Runs the loop; errors (bad corpus, vocabulary, checkpoint) come back in
/// `error` naming the file and the reason.
bool pretrain(const CompiledProgram &compiled, const PretrainConfig &config, std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_PRETRAIN_H
