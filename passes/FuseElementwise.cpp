//===- FuseElementwise.cpp - Elementwise producer-consumer fusion ---------===//
#include "passes/MatmulOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace bertc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;

namespace {

struct FuseElementwisePass : bertc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Only a result nobody else reads: fusing a shared one would recompute it
    // in every consumer.
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    });
    // A generic reading a matmul's product through a reshape (a dense
    // layer's bias add on [batch, seq, hidden] after the [batch*seq, hidden]
    // product) works on the product's shape instead, so that
    // bertc-fuse-matmul-epilogues can put it in the matmul's kernel.
    linalg::populateFoldReshapeOpsByCollapsingPatterns(patterns, [](OpOperand *fused) {
      auto expand = fused->get().getDefiningOp<tensor::ExpandShapeOp>();
      return expand && bertc::isMatmul(expand.getSrc().getDefiningOp());
    });
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
