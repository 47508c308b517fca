//===- LowerKernelOps.cpp - Graph ops lowered inside their kernels --------===//
#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"
#include "passes/lowering/Lowering.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bertc {

#define GEN_PASS_DEF_LOWERKERNELOPS
#include "backends/common/Passes.h.inc"

namespace {

struct LowerKernelOps : impl::LowerKernelOpsBase<LowerKernelOps> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    SmallVector<graph::AttentionOp> attentions(kernel.getBody().getOps<graph::AttentionOp>());
    if (attentions.empty())
      return;
    int64_t rows = strategyValue(kernel, "attention_rows", 128);
    int64_t keys = strategyValue(kernel, "attention_keys", 64);
    IRRewriter rewriter(&getContext());
    for (graph::AttentionOp op : attentions) {
      rewriter.setInsertionPoint(op);
      lowering::lowerAttention(rewriter, op, rows, keys);
    }
    // As the graph's own lowering is.
    OpPassManager cleanup(func::FuncOp::getOperationName());
    cleanup.addPass(createCanonicalizerPass());
    cleanup.addPass(createCSEPass());
    if (failed(runPipeline(cleanup, kernel)))
      signalPassFailure();
  }
};

} // namespace

} // namespace bertc
