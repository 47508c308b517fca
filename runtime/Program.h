//===- Program.h - What the compiler hands the runtime ----------*- C++ -*-===//
//
// A compiled program: its tensors (each a range of the parameter store or of
// the activation arena, views sharing their source's range), the kernels it
// calls and the ordered dispatches of one step with their buffer bindings and
// workgroup grids. The compiler writes it as JSON into the binary; both
// executors read it.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_PROGRAM_H
#define BERTC_RUNTIME_PROGRAM_H

#include "runtime/Json.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertc::rt {

/// Element types. F16 and I64 occur only in checkpoint files (half-precision
/// weights, PyTorch's index buffers): loads convert or ignore them, and no
/// program tensor has them.
enum class DType { F32, F64, I32, BF16, F16, I64 };

/// Bytes per element.
int64_t dtypeSize(DType t);
/// The safetensors spelling: "F32", "F64", "I32", "BF16", "F16", "I64".
const char *dtypeName(DType t);
bool parseDType(const std::string &name, DType &out);

enum class Storage { Parameter, Activation };

struct TensorDesc {
  std::string name; ///< Parameter/input name, or "%N" for intermediates.
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  Storage storage = Storage::Activation;
  int64_t offset = 0; ///< Bytes into the parameter store or the arena.
  int64_t elements() const;
  int64_t bytes() const { return elements() * dtypeSize(dtype); }
};

struct ParameterDesc {
  std::string name; ///< Checkpoint name.
  int tensor = -1;
  std::string init; ///< "normal", "zeros" or "ones".
  double std = 0;
};

struct NamedTensor {
  std::string name;
  int tensor = -1;
};

/// An input the session fills before each run with the labelled rows of
/// the step (bertc-step-loss-counts): the rows of the I32 input `labels`
/// whose label is not `ignoreIndex` and lies in [0, classes), this run's
/// or, when told, those of every part of a split step.
struct LabelledRows {
  int tensor = -1; ///< The rank-0 float input.
  int labels = -1; ///< The labels input.
  int64_t ignoreIndex = -100;
  int64_t classes = 0;
};

/// A parameter kept in a narrower type beside it (graph.parameter_copy):
/// the session writes it from its parameter whenever the parameters are set
/// from outside; a training step keeps it equal to the converted parameter.
struct ParameterCopy {
  int tensor = -1; ///< The copy (bf16), in the parameter store.
  int source = -1; ///< The parameter's tensor (f32).
};

struct DispatchDesc {
  int kernel = -1;
  std::vector<int> bindings; ///< Tensor ids: the kernel's inputs, then its outputs.
  int results = 0;           ///< How many of the bindings, at the end, it writes.
  std::array<int64_t, 3> grid = {1, 1, 1};
};

struct Program {
  std::string model, task, preset;
  Json config; ///< The model's constants after presets and overrides.
  std::vector<TensorDesc> tensors;
  std::vector<ParameterDesc> parameters;
  std::vector<NamedTensor> inputs;
  std::vector<NamedTensor> outputs;
  /// Training state kept across steps beside the parameters (the
  /// optimizer's moments), zero in a fresh run; the step's dispatches update
  /// parameters and state in place.
  std::vector<NamedTensor> state;
  /// Each parameter's gradient summed over a step's micro-batches
  /// (bertc-accumulate-gradients): persistent between runs, never saved.
  std::vector<NamedTensor> gradientBuffers;
  /// The bytes [offset, offset + bytes) of the parameter store that hold
  /// every gradient buffer and nothing else (checked when read): a data-
  /// parallel step sums them over ranks as one region of `dtype`. Empty
  /// (0 bytes) without buffers.
  struct Region {
    int64_t offset = 0, bytes = 0;
    DType dtype = DType::F32;
  };
  Region gradientRegion() const;
  /// Per gradient buffer, the last dispatch before the update that writes
  /// its bytes (-1: none): after it the buffer holds its micro-batch's
  /// final sum, which may then be sent while later dispatches run.
  std::vector<int64_t> gradientReadyDispatches() const;
  /// Copies of parameters the kernels read instead of them; not saved.
  std::vector<ParameterCopy> parameterCopies;
  std::vector<LabelledRows> labelledRows;
  std::vector<std::string> kernels; ///< Kernel names, in kernel-table order.
  /// Each kernel's kind of work (contract::kernelKindName), for profiles.
  std::vector<std::string> kernelKinds;
  /// Each kernel's matmul floating-point operations per dispatch (a
  /// multiply and an add per point of each matmul), for GFLOP/s in
  /// profiles.
  std::vector<int64_t> kernelMatmulFlops;
  /// The matmul operations of one step's dispatches, of the kernels of
  /// kind `kind` only when it is given.
  int64_t matmulFlopsPerStep(std::string_view kind = {}) const {
    int64_t flops = 0;
    for (const DispatchDesc &d : dispatches)
      if (kind.empty() || kernelKinds[d.kernel] == kind)
        flops += kernelMatmulFlops[d.kernel];
    return flops;
  }
  std::vector<DispatchDesc> dispatches;
  /// The leading dispatches that compute every output but the gradients:
  /// run alone (with dropout off), a training step is the forward pass, for
  /// evaluation, and writes no parameter or state.
  int64_t forwardDispatches = 0;
  /// With gradient buffers, the first dispatch of the update (norm,
  /// clipping, AdamW): the dispatches before it compute a micro-batch's
  /// gradients into the buffers, those from it on apply them once. Without,
  /// the number of dispatches.
  int64_t updateDispatches = 0;
  /// Invocations per workgroup (one dimension): 1 for CPU kernels, which
  /// run a workgroup's tile in one thread.
  int64_t invocations = 1;
  /// Bytes of workgroup (shared) memory each kernel uses, in kernel order;
  /// empty for CPU kernels.
  std::vector<int64_t> workgroupMemory;
  /// Vulkan: the kernels that have a second SPIR-V module, in kernel order,
  /// whose reductions combine partial results through subgroup shuffles;
  /// the second modules follow the kernels' first ones, in this order.
  std::vector<int64_t> subgroupKernels;
  /// How many invocations of a subgroup those modules combine (0 when there
  /// are none): a device runs them when its subgroups are at least this
  /// large and divide `invocations`.
  int64_t subgroupCluster = 0;
  /// CPU kernels: the CPU they were compiled for (an LLVM CPU name) and
  /// the features of runtime/CpuFeatures.h it has, which the machine that
  /// runs them must have too; empty for Vulkan kernels.
  std::string cpu;
  std::vector<std::string> cpuFeatures;
  /// "fp32", or "bf16": matmul operands in bf16, accumulated in fp32
  /// (--precision).
  std::string precision = "fp32";
  /// bf16 CPU kernels: whether their matmuls use AVX512-BF16's vdpbf16ps
  /// (else two fp32 FMAs per pair of K).
  bool cpuBf16Dot = false;
  /// bf16 matmul blocks on AMX tiles: the runtime asks the kernel for AMX
  /// state before the first kernel.
  bool cpuAmx = false;
  int64_t parameterBytes = 0;  ///< Parameters and state.
  int64_t activationBytes = 0; ///< The planned peak of the activation arena.

  Json toJson() const;
  /// Reads a program into `out` (replacing what it held); on failure says
  /// what is wrong in `error`.
  static bool fromJson(const Json &json, Program &out, std::string &error);

  /// "inputs", "outputs" or "state".
  std::vector<NamedTensor> &namedList(const std::string &key);
  const std::vector<NamedTensor> &namedList(const std::string &key) const;

  const TensorDesc *input(const std::string &name) const;
  /// The tensor id of an input or output, or -1.
  int inputId(const std::string &name) const;
  int outputId(const std::string &name) const;
  const TensorDesc *output(const std::string &name) const;
  /// An integer constant of the model (e.g. "vocab_size"), or `fallback`.
  int64_t configInt(const std::string &name, int64_t fallback) const;
};

/// The kernels compiled for one workgroup size: the program (its grids and
/// workgroup memory are this size's) and the SPIR-V module of each kernel,
/// followed by the second modules of `program.subgroupKernels`, in that
/// order.
struct VulkanKernels {
  Program program;
  std::vector<std::vector<uint32_t>> spirv;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_PROGRAM_H
