//===- Vectorize.cpp - Vector code for each workgroup's tile --------------===//
//
// Each linalg op inside a workgroup whose shapes are static is rewritten with
// vector ops by linalg's vectoriser; ops with partial (dynamic) tiles stay
// scalar loops. Register tiling of matmuls builds on this.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Internal.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace bertc::cpu {

namespace {

/// Largest vector (elements) a single vectorised op may produce; beyond it
/// the vector code would spill and lose to loops.
constexpr int64_t kMaxVectorElements = 4096;

bool worthVectorizing(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape())
    return false;
  std::optional<SmallVector<int64_t>> ranges = op.getStaticLoopRanges();
  if (!ranges)
    return false;
  int64_t elements = 1;
  for (int64_t r : *ranges)
    elements *= r;
  return elements <= kMaxVectorElements;
}

} // namespace

LogicalResult vectorizeKernels(ModuleOp kernels) {
  SmallVector<linalg::LinalgOp> candidates;
  kernels.walk([&](linalg::LinalgOp op) {
    if (worthVectorizing(op))
      candidates.push_back(op);
  });
  IRRewriter rewriter(kernels.getContext());
  for (linalg::LinalgOp op : candidates) {
    if (failed(linalg::vectorizeOpPrecondition(op)))
      continue;
    rewriter.setInsertionPoint(op);
    if (failed(linalg::vectorize(rewriter, op)))
      return op.emitError("vectorisation failed");
  }
  return success();
}

} // namespace bertc::cpu
