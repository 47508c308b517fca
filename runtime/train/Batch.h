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
#ifndef BERTC_RUNTIME_TRAIN_BATCH_H
#define BERTC_RUNTIME_TRAIN_BATCH_H

#include "runtime/Json.h"
#include "runtime/Session.h"
#include "runtime/train/Comm.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bertc::rt {

/// The lines of a JSONL file, parsed: (line number, object).
struct BatchFile {
  std::string path;
  std::vector<std::pair<int64_t, Json>> rows;
};

/// Reads and parses every non-blank line; errors name the file and line.
bool readBatchFile(const std::string &path, BatchFile &file, std::string &error);

/// How many batches of the program's size the file holds (the last may be
/// partial).
int64_t batchCount(const BatchFile &file, const Program &program);

/// Fills the session's data inputs with batch `index` of `file` (rows
/// index*B ... index*B+B-1, padding after the file's end). A `labels` list
/// (per token, -100 where not predicted, as in HuggingFace) becomes the
/// masked positions and labels of a pretraining program. Errors name the
/// file, the line and the reason. `sequences`: rows actually read.
bool fillBatch(const BatchFile &file, int64_t index, Session &session, std::string &error,
               int64_t *sequences = nullptr);

/// Fills the session's data inputs from `path`, which must hold at most one
/// batch.
bool loadBatch(const std::string &path, Session &session, std::string &error,
               int64_t *sequences = nullptr);

/// Sets a rank-0 input the runtime feeds each step (`learning_rate`,
/// `step`, `seed`, `dropout`); false if the program has no such input.
bool setStepInput(Session &session, const std::string &name, double value);

/// The inputs a training step reads besides its data.
struct StepInputs {
  double learningRate = 0; ///< 0: nothing moves.
  int64_t step = 1;        ///< 1-based (AdamW's bias correction, dropout keys).
  uint64_t seed = 0;       ///< Dropout key; its low 31 bits are used.
  double dropout = 0;      ///< Factor on the model's dropout rates (0: off).
};

/// Sets each of them the program has.
void setStepInputs(Session &session, const StepInputs &inputs);

/// The value of a rank-0 output as a double.
double scalarOutput(const Session &session, int tensor);

/// A piece of the gradient region summed on its own.
struct GradientBucket {
  int64_t offset = 0, bytes = 0; ///< Within the region.
  int64_t ready = 0;             ///< The dispatch after which it is final.
};

/// The gradient region cut at buffer starts into buckets of at least
/// `bucketBytes` (the last in memory may be smaller), covering it whole, in
/// the order they become final (then by address).
std::vector<GradientBucket> gradientBuckets(const Program &program, int64_t bucketBytes);

/// How a run's steps sum their gradient buffers over the ranks.
struct DataParallel {
  Communicator *comm = nullptr; ///< null: this process alone.
  /// Empty: one allreduce of the whole region after the backward pass.
  /// Else each bucket is started as soon as the last micro-batch's
  /// dispatches have made it final, progressed after every later dispatch
  /// and waited for before the update.
  std::vector<GradientBucket> buckets;
};

/// The run's summing: buckets of about `bucketBytes` of `program`'s
/// gradient region (computed once), none with one rank or `bucketBytes` 0.
DataParallel dataParallel(Communicator &comm, const Program &program, int64_t bucketBytes);

/// Where a data-parallel step's communication went.
struct StepTimes {
  double wait = 0;      ///< Seconds waiting for the slowest rank (one allreduce: a barrier).
  double allreduce = 0; ///< Seconds summing after the backward pass.
  /// Bytes summed while the backward pass ran (buckets), the most of any
  /// rank (the slowest one's: a rank ahead of it has nothing to overlap).
  size_t hiddenBytes = 0;
};

/// A data-parallel step's communication as metrics: with one allreduce,
/// `wait_ms` (for the slowest rank) and `allreduce_ms`; with buckets,
/// `allreduce_ms` (blocked after the backward pass) and `overlapped_mb`
/// (summed while it ran).
void communicationMetrics(const DataParallel &parallel, const StepTimes &times,
                          std::vector<std::pair<std::string, double>> &values);

/// One training step over `microBatches` parts on each rank of
/// `parallel.comm` (null: this process alone): `fill(j, error)` writes
/// this rank's part j (data and step inputs). A program with gradient
/// buffers runs every part's gradients, each divided by the labelled rows of all parts of all
/// ranks, sums the buffers over the ranks, then runs the update once; one
/// without takes a single part on a single rank and runs whole. `scalars`
/// gets each rank-0 output summed over the parts and ranks (the losses of
/// the step's global batch), by output index (0 for the others); `times`
/// (if given) the step's communication.
bool runStep(Session &session, int64_t microBatches,
             const std::function<bool(int64_t, std::string &)> &fill, std::vector<double> &scalars,
             std::string &error, const DataParallel &parallel = {}, StepTimes *times = nullptr);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_BATCH_H
