//===- Bench.h - Two compilations of one step, side by side -----*- C++ -*-===//
//
// `bertc bench` compiles a model twice (fused and unfused kernels) and hands
// both programs here: they get the same parameters and the same synthetic
// batch, their first step's results are compared tensor by tensor, then
// their steps are timed in alternation (so that both see the same machine)
// with each kernel's time summed by its kind of work.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_BENCH_H
#define BERTC_RUNTIME_TRAIN_BENCH_H

#include "runtime/Json.h"
#include "runtime/Session.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bertc::rt {

struct BenchOptions {
  int steps = 5;      ///< Timed steps per variant (after one untimed step).
  uint64_t seed = 1;  ///< Parameters, batch and dropout keys.
  double dropout = 1; ///< Factor on the model's dropout rates.
  double learningRate = 1e-4;
};

/// One variant's figures.
struct BenchFigures {
  std::string name;            ///< "fused" or "unfused".
  int64_t kernelsPerStep = 0;  ///< Dispatches per step.
  int64_t distinctKernels = 0; ///< Kernels in the binary.
  double stepMs = 0;           ///< Median over the timed steps.
  double tokensPerSecond = 0;
  /// The matmul kernels' floating-point operations per step over their
  /// time: GFLOP/s of the kind "matmul" (0 where it has no time).
  double matmulGflops = 0;
  /// Milliseconds per step spent in kernels of each kind (means over the
  /// timed steps).
  std::vector<std::pair<std::string, double>> kindMs;
  /// Milliseconds per step in each kernel, with its kind, slowest first.
  struct KernelMs {
    std::string kernel, kind;
    double ms = 0;
  };
  std::vector<KernelMs> kernelMs;
  std::vector<double> stepsMs; ///< Every timed step.
};

struct BenchResult {
  BenchFigures fused, unfused;
  /// After the first step, the largest over the floating-point outputs
  /// (losses and gradients) of max|fused - unfused| / max|unfused|, with
  /// the tensor it comes from. For gradients the denominator is at least
  /// 1e-4 of the largest gradient.
  double maxRelDiff = 0;
  std::string worstTensor;
  int64_t comparedTensors = 0;
  /// The same over the updated parameters and the optimizer's state (each
  /// group floored at 1e-4 of its largest). AdamW divides by the root of
  /// the second moment, so tiny gradients' rounding differences grow here;
  /// this catches a wrong update, not the last digits.
  double maxRelDiffUpdated = 0;
  std::string worstUpdated;
  int64_t comparedUpdated = 0;
  int64_t tokensPerStep = 0;
};

/// Fills every data input of `session` with one synthetic batch (random
/// token ids, sequence pairs, masked positions and labels), the same for any
/// program of the same task and sizes, as the runtime's own batch reader
/// would from a JSONL file.
bool fillSyntheticBatch(Session &session, uint64_t seed, std::string &error);

/// Runs the comparison and the timing. Both sessions must come from the
/// same model, task and sizes.
bool runBench(Session &fused, Session &unfused, const BenchOptions &options, BenchResult &result,
              std::string &error);

/// The table, then the lines for scripts:
///   kernels_per_step fused=N unfused=M
///   step_ms fused=X unfused=Y
///   matmul_gflops fused=G unfused=H
///   max_rel_diff=D
/// `top` > 0 adds each variant's `top` slowest kernels.
std::string formatBench(const BenchResult &result, const std::string &title, int top = 0);

/// The result in Google Benchmark's JSON format (one benchmark per variant,
/// the figures as counters), with `context` merged into its context.
Json benchJson(const BenchResult &result, const std::string &name, const Json &context);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_BENCH_H
