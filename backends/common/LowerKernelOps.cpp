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
    SmallVector<Operation *> ops;
    for (Operation &op : kernel.getBody().getOps())
      if (op.hasTrait<graph::OpTrait::LoweredInKernel>())
        ops.push_back(&op);
    if (ops.empty())
      return;
    KernelOpBlocks defaults;
    int64_t rows = strategyValue(kernel, "attention_rows", defaults.attentionRows);
    int64_t keys = strategyValue(kernel, "attention_keys", defaults.attentionKeys);
    int64_t columnBlocks =
        strategyValue(kernel, "scatter_column_blocks", defaults.scatterColumnBlocks);
    int64_t lossRows = strategyValue(kernel, "loss_rows", defaults.lossRows);
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      if (auto attention = dyn_cast<graph::AttentionOp>(op))
        lowering::lowerAttention(rewriter, attention, rows, keys);
      else if (auto scatter = dyn_cast<graph::EmbeddingGradOp>(op))
        lowering::lowerEmbeddingGrad(rewriter, scatter, columnBlocks);
      else if (auto loss = dyn_cast<graph::CrossEntropyRowsOp>(op))
        lowering::lowerCrossEntropyRows(rewriter, loss, lossRows);
      else
        return (void)(op->emitOpError("has no lowering in a kernel"), signalPassFailure());
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
