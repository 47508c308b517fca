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
    // Only a result nobody else reads: fusing a shared one would recompute it
    // in every consumer.
    auto soleUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    // First the chains at their own shapes (a dense layer's bias, dropout
    // and residual add on [batch, seq, hidden] become one generic) ...
    RewritePatternSet chains(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(chains, soleUse);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(chains))))
      return signalPassFailure();
    // ... then a generic reading a matmul's product through a reshape (the
    // [batch*seq, hidden] product) works on the product's shape instead, so
    // that bertc-fuse-matmul-epilogues can put it in the matmul's kernel.
    RewritePatternSet reshapes(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(reshapes, soleUse);
    linalg::populateFoldReshapeOpsByCollapsingPatterns(reshapes, [](OpOperand *fused) {
      auto expand = fused->get().getDefiningOp<tensor::ExpandShapeOp>();
      return expand && bertc::isMatmul(expand.getSrc().getDefiningOp());
    });
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(reshapes))))
      return signalPassFailure();
  }
};

} // namespace
