//===- FuseCrossEntropy.cpp - A cross-entropy and its gradient as one op --===//
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/Dominance.h"

namespace bertc {
#define GEN_PASS_DEF_FUSECROSSENTROPY
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

struct FuseCrossEntropyPass : bertc::impl::FuseCrossEntropyBase<FuseCrossEntropyPass> {
  void runOnOperation() override {
    Block &body = getOperation().getBody().front();
    SmallVector<gr::CrossEntropyGradOp> grads(body.getOps<gr::CrossEntropyGradOp>());
    DominanceInfo dominance(getOperation());
    for (gr::CrossEntropyGradOp grad : grads) {
      // The forward op of the same logits and labels.
      gr::CrossEntropyOp forward;
      for (Operation *user : grad.getLogits().getUsers())
        if (auto ce = dyn_cast<gr::CrossEntropyOp>(user))
          if (ce.getLabels() == grad.getLabels() && ce.getIgnoreIndex() == grad.getIgnoreIndex() &&
              ce.getCount() == grad.getCount())
            forward = ce;
      if (!forward)
        continue;
      // The fused op takes the forward's place, so the loss's gradient must
      // be known there: computed before it, or a constant (moved there).
      Value g = grad.getGrad();
      auto constant = g.getDefiningOp<gr::ConstantOp>();
      if (!dominance.properlyDominates(g, forward) && !constant)
        continue;
      OpBuilder b(forward);
      if (!dominance.properlyDominates(g, forward))
        g = b.clone(*constant)->getResult(0);
      auto fused = b.create<gr::CrossEntropyWithGradOp>(
          forward.getLoc(), TypeRange{forward.getType(), grad.getType()}, forward.getLogits(),
          forward.getLabels(), g, forward.getCount(), forward.getIgnoreIndexAttr());
      forward.replaceAllUsesWith(fused.getLoss());
      grad.replaceAllUsesWith(fused.getDlogits());
      grad->erase();
      forward->erase();
      if (constant && constant->use_empty())
        constant->erase();
    }
  }
};

} // namespace
