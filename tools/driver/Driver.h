//===- Driver.h - What `bertc compile` does ---------------------*- C++ -*-===//
#ifndef BERTC_TOOLS_DRIVER_DRIVER_H
#define BERTC_TOOLS_DRIVER_DRIVER_H

#include "frontend/MLIRGen.h"

#include <cstdint>
#include <ostream>
#include <string>

namespace bertc {

/// What `bertc compile` produces, in pipeline order.
enum class Emit {
  AST,        ///< The syntax tree.
  Graph,      ///< The graph dialect.
  Train,      ///< The graph with its gradients (and optimizer) appended.
  Linalg,     ///< After lowering to linalg on tensors.
  Dispatch,   ///< After dispatch-region formation.
  Summary,    ///< Counts: parameters, tensors, ops, kernels, planned memory.
  Kernels,    ///< Workgroup kernels over buffers, before LLVM (needs a target).
  LLVM,       ///< The kernels' optimised LLVM IR (needs a target).
  Object,     ///< The kernels' object file (needs a target).
  Executable, ///< Kernels linked with the runtime (needs a target).
  Shared,     ///< Kernels as a shared library for runtime::loadProgram (needs a target).
  Spirv,      ///< The kernels as SPIR-V modules (--target vulkan); with -o, binaries.
};

/// What one run of the compiled program computes.
enum class StepKind {
  Default,   ///< Train for tasks that minimize an objective, forward otherwise.
  Forward,   ///< The task's outputs.
  Gradients, ///< The outputs and the objective's gradients `grad:NAME`.
  Train,     ///< Gradients, then clipping and AdamW on the parameters in place.
};

struct CompileOptions {
  std::string modelPath;
  frontend::GraphOptions graph;
  Emit emit = Emit::Summary;
  std::string target; ///< "" (none), "cpu", "vulkan" or "cpu,vulkan".
  /// The CPU the kernels are for: "native" (this machine's), x86-64-v3,
  /// x86-64-v4 or another LLVM x86 CPU name.
  std::string cpu = "native";
  std::string outputPath; ///< "-" or empty: standard output.
  int64_t workgroups = 0; ///< Workgroups per kernel to aim for (0: the target's default).
  /// Vulkan: lanes a reduction's subgroup modules combine by shuffles
  /// (-1: the back end's default; 0: no subgroup modules).
  int64_t subgroupCluster = -1;
  /// Vulkan: the workgroup sizes (invocations) to compile the kernels for,
  /// the executor choosing by device (empty: the back end's default).
  std::vector<int64_t> workgroupSizes;
  bool vectorize = true; ///< Off: scalar loops only.
  StepKind step = StepKind::Default;
  bool fusion = true; ///< Fuse kernels (bertc-fuse-elementwise); off: one per op.
  /// Most buffers one kernel binds (0: 32 when Vulkan is a target, else no
  /// bound).
  unsigned maxBindings = 0;
  bool biasCorrection = true; ///< AdamW with bias correction (HuggingFace's form).
  /// Gradients summed in buffers over a step's micro-batches, the update
  /// run apart (bertc-accumulate-gradients).
  bool accumulateGradients = false;
  /// Matmul operands in bf16, accumulated in f32 (bertc-mixed-precision);
  /// CPU only.
  bool bf16 = false;
  /// With bf16: compute the blocks AMX would take, in the same layouts, by
  /// loops instead of tiles (tests check those blocks on any machine).
  bool amxBlocksAsLoops = false;
};

/// Compiles a model file as `bertc compile` does. Diagnostics go to `errs` as
/// file:line:col messages. Returns the process exit status (0 or 1).
int compile(const CompileOptions &options, std::ostream &errs);

struct BenchSettings {
  int steps = 5;         ///< Timed steps per variant.
  int threads = 0;       ///< Worker threads (0: all cores).
  std::string device;    ///< With --target vulkan: "vulkan" or "vulkan:N".
  uint64_t seed = 1;     ///< Parameters, batch and dropout keys.
  int top = 0;           ///< Slowest kernels listed per variant.
  std::string jsonPath;  ///< Google Benchmark JSON output, if not empty.
  bool subgroups = true; ///< Vulkan: subgroup reductions where the device can.
};

/// `bertc bench`: compiles `options`' model twice, with fusion and without,
/// into shared libraries in a temporary directory, runs both on the same
/// parameters and synthetic batch, checks that their first steps agree, and
/// prints the table of runtime/train/Bench.h on `out`. Returns the exit status.
int bench(const CompileOptions &options, const BenchSettings &settings, std::ostream &out,
          std::ostream &errs);

} // namespace bertc

#endif // BERTC_TOOLS_DRIVER_DRIVER_H
