//===- Session.h - A compiled program's memory and execution ----*- C++ -*-===//
//
// A Session is a program with its memory: the parameter store and the
// activation arena that the program's buffer plan describes, both allocated
// once by the session's executor (the CPU or a Vulkan device), which runs
// the program's dispatches. The session reads and writes tensors through
// host pointers, and initialises, loads and saves the parameters.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_SESSION_H
#define BERTC_RUNTIME_SESSION_H

#include "runtime/Checkpoint.h"
#include "runtime/Executor.h"
#include "runtime/Program.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bertc::rt {

class Session {
public:
  /// A session on `executor`, which was made for `program`.
  Session(Program program, std::unique_ptr<Executor> executor);
  /// A session on the CPU: `kernels[i]` runs `program.kernels[i]`.
  /// `threads` <= 0: all cores.
  Session(Program program, const KernelFn *kernels, int threads);
  ~Session();

  const Program &program() const { return program_; }
  /// What runs the kernels (Executor::device).
  std::string device() const { return executor_->device(); }
  /// The bytes of tensor `id` (a parameter or an activation).
  void *data(int id);
  const void *data(int id) const;

  /// Fills every parameter from its initializer (normal, zeros, ones); the
  /// values depend only on `seed` and the parameter's name.
  void initParameters(uint64_t seed);
  /// After parameters were written through data(): rewrites their copies
  /// (Program::parameterCopies) from them. initParameters and the loads do
  /// it themselves.
  void updateParameterCopies();
  /// Loads every parameter from a checkpoint (a safetensors file or a
  /// HuggingFace model directory, read by readCheckpoint: published names
  /// and dtypes are brought to the program's), and the training state too
  /// when the file has all of it (otherwise the state stays zero); shapes
  /// must match. Nothing changes unless everything checks. `report` says
  /// what was loaded, renamed, converted and ignored; `metadata` receives
  /// the file's metadata.
  bool loadParameters(const std::string &path, std::string &error, LoadReport *report = nullptr,
                      std::map<std::string, std::string> *metadata = nullptr);
  /// Loads the parameters the checkpoint `path` has, under the same name
  /// (after readCheckpoint) and shape (a pretrained encoder under a new
  /// head), leaving the others as they are, listed in `report.initialised`.
  /// A file sharing no parameter is an error.
  bool loadMatchingParameters(const std::string &path, std::string &error, LoadReport &report);
  /// Writes the training state alone (the optimizer's moments), atomically.
  bool saveState(const std::string &path, std::string &error,
                 const std::map<std::string, std::string> &metadata) const;
  /// Loads every training-state tensor from a file saveState wrote (names,
  /// dtypes and shapes checked; nothing changes unless all check).
  bool loadState(const std::string &path, std::string &error,
                 std::map<std::string, std::string> *metadata = nullptr);
  /// Writes the parameters (and with `withState` the training state),
  /// atomically, with `metadata` beside the model's name.
  bool saveParameters(const std::string &path, std::string &error, bool withState = false,
                      const std::map<std::string, std::string> &metadata = {}) const;
  /// Writes the outputs whose names start with `prefix`, without the prefix.
  bool saveOutputs(const std::string &path, const std::string &prefix, std::string &error) const;
  bool saveOutputs(const std::string &path, std::string &error) const {
    return saveOutputs(path, "", error);
  }

  /// Runs every dispatch once, in order (throws ExecutionError when the
  /// device fails). First fills each Program::labelledRows input: with the
  /// rows set by setLabelledRows, else with this run's own.
  void run();
  /// Runs only the forward dispatches (Program::forwardDispatches), the
  /// labelled rows filled as by run().
  void runForward();

  /// A step split into micro-batches (a program with gradient buffers):
  /// runGradients computes one micro-batch's gradients into the buffers,
  /// replacing what they hold or, with `add`, adding to it (the input
  /// `accumulate`); runUpdate then applies the sums once. run() is both
  /// with the buffers replaced.
  void runGradients(bool add);
  /// runGradients, calling `after(d)` after each dispatch d (to start
  /// sending the buffers that dispatch made final).
  void runGradients(bool add, const std::function<void(size_t)> &after);
  void runUpdate();
  /// Host bytes of the gradient buffers' region (Program::gradientRegion),
  /// for summing them over ranks between runGradients and runUpdate.
  void *gradientRegion();

  /// The labelled rows of the current inputs, one per
  /// Program::labelledRows entry.
  std::vector<double> countLabelledRows() const;
  /// The labelled rows the following runs divide their cross-entropies by
  /// (one per Program::labelledRows entry): those of a whole step split into
  /// parts, each part's run adding its share; empty: each run its own.
  void setLabelledRows(std::vector<double> rows);

  /// Per-kernel time accumulated by run() when profiling is on.
  using KernelTime = rt::KernelTime;
  void setProfiling(bool on);
  const std::vector<KernelTime> &kernelTimes() const;

private:
  Program program_;
  std::unique_ptr<Executor> executor_;
  bool profiling_ = false;
  std::vector<KernelTime> times_;
  std::vector<double> labelledRows_; ///< setLabelledRows'; empty: count each run.

  void fillLabelledRows();
  /// Writes a rank-0 float input (F32 or F64).
  void setFloatInput(int id, double value);
  /// Dispatches [begin, end); from the first, after filling the labelled
  /// rows and the input `accumulate` (where the program has it).
  void runDispatches(size_t begin, size_t end, bool addToGradients);
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_SESSION_H
