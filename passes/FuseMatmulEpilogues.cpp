//===- FuseMatmulEpilogues.cpp - Bias, GELU, residual into the matmul -----===//
//
// The elementwise work that follows a matmul (bias, GELU, dropout, residual
// add, gradient accumulation; already one linalg.generic after
// bertc-fuse-elementwise) joins the matmul's dispatch: each workgroup
// computes its tile of the product and applies the epilogue to it while it
// is in cache, and the product is never written to memory.
//
//===----------------------------------------------------------------------===//
#include "passes/DispatchFusion.h"
#include "passes/MatmulOps.h"
#include "passes/Passes.h"

namespace bertc {
#define GEN_PASS_DEF_FUSEMATMULEPILOGUES
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// Whether the matmul of `producer` can join `consumer`: the consumer is
/// one all-parallel linalg.generic, without another contraction, that alone
/// reads the product, element for element.
bool canMergeEpilogue(gr::DispatchOp producer, gr::DispatchOp consumer) {
  linalg::LinalgOp p = bertc::dispatchRoot(producer);
  auto c = dyn_cast_or_null<linalg::GenericOp>(bertc::dispatchRoot(consumer).getOperation());
  if (!p || !bertc::isMatmul(p) || !c || c.getNumReductionLoops() != 0)
    return false;
  bool contraction = false;
  consumer.getBody().walk([&](linalg::LinalgOp op) {
    contraction = contraction || linalg::isaContractionOpInterface(op);
  });
  if (contraction)
    return false;
  Block &body = consumer.getBody().front();
  for (auto [arg, in] : llvm::zip(body.getArguments(), consumer.getInputs())) {
    if (in.getDefiningOp() != producer.getOperation())
      continue;
    for (OpOperand &use : arg.getUses())
      if (use.getOwner() != c.getOperation() || !c.isDpsInput(&use) ||
          !c.getMatchingIndexingMap(&use).isIdentity())
        return false;
  }
  return true;
}

struct FuseMatmulEpiloguesPass : bertc::impl::FuseMatmulEpiloguesBase<FuseMatmulEpiloguesPass> {
  using FuseMatmulEpiloguesBase::FuseMatmulEpiloguesBase;

  void runOnOperation() override {
    // A product used by several kernels stays in a kernel of its own.
    bertc::mergeIntoConsumers(
        getOperation().getBody().front(), canMergeEpilogue, [](gr::DispatchOp) { return false; },
        maxBindings);
  }
};

} // namespace
