//===- MatmulOps.h - The contractions the lowering creates ------*- C++ -*-===//
#ifndef BERTC_PASSES_MATMULOPS_H
#define BERTC_PASSES_MATMULOPS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace bertc {

/// linalg.matmul, linalg.batch_matmul and their *_transpose_a and
/// *_transpose_b forms: the ops the graph's matmuls become, which fusion and
/// the back ends tile as matmuls (loops: [batch,] M, N, K).
inline bool isMatmul(mlir::Operation *op) {
  return mlir::isa_and_nonnull<
      mlir::linalg::MatmulOp, mlir::linalg::BatchMatmulOp, mlir::linalg::MatmulTransposeAOp,
      mlir::linalg::BatchMatmulTransposeAOp, mlir::linalg::MatmulTransposeBOp,
      mlir::linalg::BatchMatmulTransposeBOp>(op);
}

} // namespace bertc

#endif // BERTC_PASSES_MATMULOPS_H
