//===- Internal.h - The CPU back end's strategy -----------------*- C++ -*-===//
#ifndef BERTC_BACKENDS_CPU_INTERNAL_H
#define BERTC_BACKENDS_CPU_INTERNAL_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

#include <optional>

namespace bertc::cpu {

/// The vector code of a kernel's workgroup: its `bertc.strategy`, which
/// bertc-cpu-select-strategy writes and bertc-cpu-vectorize reads (the keys
/// are the Passes.td's).
struct VectorStrategy {
  /// Matmul register block: rows x columns of accumulators.
  int64_t registerRows = 6, registerCols = 16;
  /// K chunk of a matmul.
  int64_t kChunk = 256;
  /// Elements per vector piece of other ops.
  int64_t vector = 16;
  /// Side of a transpose's blocks.
  int64_t transpose = 8;
  /// Larger static pieces are not unrolled into vector code.
  int64_t maxPieceElements = 1024;

  mlir::DictionaryAttr toAttr(mlir::MLIRContext *ctx) const;
  /// The strategy of `kernel`; none without vector entries in its
  /// `bertc.strategy`.
  static std::optional<VectorStrategy> of(mlir::Operation *kernel);
};

} // namespace bertc::cpu

#endif // BERTC_BACKENDS_CPU_INTERNAL_H
