//===- Contract.h - Names the compiler and the runtime share ----*- C++ -*-===//
//
// What a compiled program's tensors and kernels are called, on both sides:
// the compiler (passes/) creates them, the runtime looks them up. No MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_CONTRACT_H
#define BERTC_RUNTIME_CONTRACT_H

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace bertc::contract {

/// The inputs of a training step (bertc-key-dropout, bertc-append-optimizer)
/// that the runtime sets before each step, all rank 0.
inline constexpr std::string_view kSeedInput = "seed";        ///< i32: dropout's key.
inline constexpr std::string_view kStepInput = "step";        ///< i32: 1, 2, ...
inline constexpr std::string_view kDropoutInput = "dropout";  ///< f32: rates' factor.
inline constexpr std::string_view kLearningRateInput = "learning_rate"; ///< f32.

/// The input holding the labelled rows of the whole step (every
/// micro-batch and rank) that a cross-entropy over the labels input L
/// divides by (bertc-step-loss-counts): "labelled_rows:L", f32, rank 0.
inline constexpr std::string_view kLabelledRowsPrefix = "labelled_rows:";
inline std::string labelledRowsName(std::string_view labels) {
  return std::string(kLabelledRowsPrefix) + std::string(labels);
}

/// With gradient buffers (bertc-accumulate-gradients): the f32 input that
/// is 0 for a step's first micro-batch and 1 for the others, which add
/// their gradients to the buffers; and the prefix of the buffers' names.
inline constexpr std::string_view kAccumulateInput = "accumulate";
inline constexpr std::string_view kGradientBufferPrefix = "gradient.";

/// The output holding the objective's gradient of parameter P is "grad:P".
inline constexpr std::string_view kGradientPrefix = "grad:";
inline std::string gradientName(std::string_view parameter) {
  return std::string(kGradientPrefix) + std::string(parameter);
}
inline bool isGradient(std::string_view output) {
  return output.substr(0, kGradientPrefix.size()) == kGradientPrefix;
}

/// A kernel's kind of work, for profiles and `bertc bench`. In rank order:
/// a kernel holding ops of several kinds has the first (a matmul with its
/// bias and GELU is a matmul kernel). Elementwise also covers reductions
/// and data movement.
enum class KernelKind { Attention, Matmul, Loss, LayerNorm, Softmax, Optimizer, Elementwise };

inline constexpr std::array<KernelKind, 7> kKernelKinds = {
    KernelKind::Attention, KernelKind::Matmul,    KernelKind::Loss,       KernelKind::LayerNorm,
    KernelKind::Softmax,   KernelKind::Optimizer, KernelKind::Elementwise};

/// The kind's name in programs and tables.
constexpr std::string_view kernelKindName(KernelKind kind) {
  switch (kind) {
  case KernelKind::Attention:
    return "attention";
  case KernelKind::Matmul:
    return "matmul";
  case KernelKind::Loss:
    return "loss";
  case KernelKind::LayerNorm:
    return "layernorm";
  case KernelKind::Softmax:
    return "softmax";
  case KernelKind::Optimizer:
    return "optimizer";
  case KernelKind::Elementwise:
    return "elementwise";
  }
  return "elementwise";
}

inline std::optional<KernelKind> kernelKindNamed(std::string_view name) {
  for (KernelKind kind : kKernelKinds)
    if (kernelKindName(kind) == name)
      return kind;
  return std::nullopt;
}

} // namespace bertc::contract

#endif // BERTC_RUNTIME_CONTRACT_H
