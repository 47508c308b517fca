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

/// The floating-point operations of the matmuls in `region`: a multiply
/// and an add per point of each one's iteration space ([batch,] M x N x K);
/// a matmul with a dynamic loop adds nothing.
inline int64_t matmulFlops(mlir::Region &region) {
  int64_t flops = 0;
  region.walk([&](mlir::linalg::LinalgOp op) {
    if (!isMatmul(op))
      return;
    int64_t points = 1;
    for (int64_t range : op.getStaticLoopRanges()) {
      if (mlir::ShapedType::isDynamic(range))
        return;
      points *= range;
    }
    flops += 2 * points;
  });
  return flops;
}

} // namespace bertc

#endif // BERTC_PASSES_MATMULOPS_H
