//===- Pipelines.cpp - The compiler's graph-level pipelines ---------------===//
#include "passes/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bertc {

void buildTrainingGraphPipeline(OpPassManager &pm, const TrainingGraphOptions &options) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createTagKernelKinds());
  if (options.gradients)
    fn.addPass(createKeyDropout());
  // Before differentiation: the attention's gradient recomputes its
  // probabilities instead of keeping them.
  if (options.fusion)
    fn.addPass(createFormAttention());
  if (options.gradients) {
    // Each part of a split batch divides by the whole step's rows.
    fn.addPass(createStepLossCounts());
    fn.addPass(createDifferentiate());
  }
  if (options.gradients && options.fusion)
    fn.addPass(createFuseCrossEntropy());
  if (options.gradients && options.optimizer && options.accumulate)
    fn.addPass(createAccumulateGradients());
  if (options.gradients && options.optimizer) {
    AppendOptimizerOptions adam;
    adam.biasCorrection = options.biasCorrection;
    fn.addPass(createAppendOptimizer(adam));
  }
  // After the gradients and the optimizer: their matmuls too, and each
  // parameter copy's update beside the parameter's.
  if (options.bf16)
    fn.addPass(createMixedPrecision());
}

void buildGraphToLinalgPipeline(OpPassManager &pm, const DispatchOptions &options) {
  pm.addNestedPass<func::FuncOp>(createConvertGraphToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildDispatchRegionsPipeline(OpPassManager &pm, const DispatchOptions &options) {
  if (options.fusion) {
    FuseElementwiseOptions elementwise;
    elementwise.maxBindings = options.maxBindings;
    pm.addNestedPass<func::FuncOp>(createFuseElementwise(elementwise));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  pm.addNestedPass<func::FuncOp>(createFormDispatchRegions());
  if (!options.fusion)
    return;
  FuseReductionsOptions reductions;
  reductions.maxBindings = options.maxBindings;
  pm.addNestedPass<func::FuncOp>(createFuseReductions(reductions));
  FuseMatmulEpiloguesOptions epilogues;
  epilogues.maxBindings = options.maxBindings;
  pm.addNestedPass<func::FuncOp>(createFuseMatmulEpilogues(epilogues));
  FuseHorizontalOptions horizontal;
  horizontal.maxBindings = options.maxBindings;
  pm.addNestedPass<func::FuncOp>(createFuseHorizontal(horizontal));
}

namespace {

struct TrainingGraphCLOptions : PassPipelineOptions<TrainingGraphCLOptions> {
  Option<bool> gradients{*this, "gradients", llvm::cl::desc("Differentiate the objective"),
                         llvm::cl::init(true)};
  Option<bool> optimizer{*this, "optimizer", llvm::cl::desc("Append clipping and AdamW"),
                         llvm::cl::init(true)};
  Option<bool> fusion{*this, "fusion", llvm::cl::desc("Fused attention and cross-entropy"),
                      llvm::cl::init(true)};
  Option<bool> biasCorrection{*this, "bias-correction", llvm::cl::desc("AdamW bias correction"),
                              llvm::cl::init(true)};
  Option<bool> bf16{*this, "bf16", llvm::cl::desc("Matmuls on bf16 operands"),
                    llvm::cl::init(false)};
};

struct DispatchCLOptions : PassPipelineOptions<DispatchCLOptions> {
  Option<bool> fusion{*this, "fusion", llvm::cl::desc("Fuse (off: one dispatch per op)"),
                      llvm::cl::init(true)};
  Option<unsigned> maxBindings{*this, "max-bindings",
                               llvm::cl::desc("Most buffers per dispatch (0: no bound)"),
                               llvm::cl::init(0)};

  DispatchOptions get() const { return {fusion, maxBindings}; }
};

} // namespace

void registerGraphPipelines() {
  PassPipelineRegistration<TrainingGraphCLOptions>(
      "bertc-training-graph", "The forward graph with its gradients and the AdamW update",
      [](OpPassManager &pm, const TrainingGraphCLOptions &o) {
        buildTrainingGraphPipeline(
            pm, {o.gradients, o.optimizer, o.fusion, o.biasCorrection, o.bf16});
      });
  PassPipelineRegistration<DispatchCLOptions>("bertc-graph-to-linalg",
                                              "The graph as linalg on tensors",
                                              [](OpPassManager &pm, const DispatchCLOptions &o) {
                                                buildGraphToLinalgPipeline(pm, o.get());
                                              });
  PassPipelineRegistration<DispatchCLOptions>("bertc-dispatch-regions",
                                              "Linalg on tensors grouped into dispatch regions",
                                              [](OpPassManager &pm, const DispatchCLOptions &o) {
                                                buildDispatchRegionsPipeline(pm, o.get());
                                              });
  PassPipelineRegistration<DispatchCLOptions>("bertc-dispatch",
                                              "The graph as linalg, grouped into dispatch regions",
                                              [](OpPassManager &pm, const DispatchCLOptions &o) {
                                                buildGraphToLinalgPipeline(pm, o.get());
                                                buildDispatchRegionsPipeline(pm, o.get());
                                              });
}

} // namespace bertc
