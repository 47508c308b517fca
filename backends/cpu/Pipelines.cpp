//===- Pipelines.cpp - The CPU back end's pipelines -----------------------===//
#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"
#include "backends/cpu/CpuBackend.h"
#include "backends/cpu/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/AMX/AMXToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include <algorithm>
#include <thread>

using namespace mlir;

namespace bertc::cpu {

void registerCpuBackend(DialectRegistry &registry) {
  registerCommonBackend(registry);
  // Bounds of tile sizes (a bf16 panel's packed rows).
  affine::registerValueBoundsOpInterfaceExternalModels(registry);
  arith::registerValueBoundsOpInterfaceExternalModels(registry);
  scf::registerValueBoundsOpInterfaceExternalModels(registry);
  tensor::registerValueBoundsOpInterfaceExternalModels(registry);
  registry.insert<amx::AMXDialect, cf::ControlFlowDialect, index::IndexDialect, LLVM::LLVMDialect,
                  math::MathDialect>();
  registerAMXDialectTranslation(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void buildCpuWorkgroupKernelsPipeline(OpPassManager &pm, const CpuPipelineOptions &options) {
  pm.addPass(createToDestinationPassing());
  CpuSelectStrategyOptions strategy;
  strategy.targetWorkgroups =
      options.targetWorkgroups > 0
          ? options.targetWorkgroups
          : std::max<int64_t>(8, 4 * static_cast<int64_t>(std::thread::hardware_concurrency()));
  strategy.vectorize = options.vectorize;
  strategy.vectorBits = options.vectorBits;
  strategy.bf16Dot = options.bf16Dot;
  strategy.amx = options.amx;
  pm.addPass(createCpuSelectStrategy(strategy));
  pm.addNestedPass<func::FuncOp>(createLowerKernelOps());
  pm.addNestedPass<func::FuncOp>(createTileWorkgroups());
  pm.addNestedPass<func::FuncOp>(createCpuVectorize());
  pm.addNestedPass<func::FuncOp>(createBufferizeKernels());
  pm.addNestedPass<func::FuncOp>(createDistributeWorkgroups());
}

void buildCpuLowerToLLVMPipeline(OpPassManager &pm) {
  // Identical subviews merge, so the self-copies bufferization left vanish.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createCpuHoistAccumulators());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCpuLowerVectors());
  pm.addNestedPass<func::FuncOp>(createCpuLowerAmx());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createCpuExpandBf16());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addNestedPass<func::FuncOp>(createCpuHoistStaticAllocas());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createCpuApproximateMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  ConvertVectorToLLVMPassOptions vectorOptions;
  vectorOptions.amx = true; // The AMX tile operations bertc-cpu-lower-amx made, where any.
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  // What LLVM has intrinsics for first; libm calls for the rest (f64 erf).
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCpuAddEntryPoints());
}

namespace {

struct WorkgroupKernelsOptions : PassPipelineOptions<WorkgroupKernelsOptions> {
  Option<int64_t> targetWorkgroups{*this, "target-workgroups",
                                   llvm::cl::desc("Workgroups to aim for per kernel"),
                                   llvm::cl::init(32)};
  Option<bool> vectorize{*this, "vectorize", llvm::cl::desc("Vector code (off: scalar loops)"),
                         llvm::cl::init(true)};
  Option<int64_t> vectorBits{*this, "vector-bits",
                             llvm::cl::desc("Vector register width: 256 (AVX2) or 512 (AVX-512)"),
                             llvm::cl::init(256)};
  Option<bool> bf16Dot{*this, "bf16-dot",
                       llvm::cl::desc("The CPU has vdpbf16ps at that width (bf16 matmuls)"),
                       llvm::cl::init(false)};
  Option<int64_t> amx{*this, "amx",
                      llvm::cl::desc("bf16 blocks on AMX tiles (1), as loops of the same layouts "
                                     "(2), or not (0)"),
                      llvm::cl::init(0)};
};

} // namespace

void registerCpuPipelines() {
  registerBertcCommonPasses();
  registerBertcCpuPasses();
  PassPipelineRegistration<WorkgroupKernelsOptions>(
      "bertc-cpu-workgroup-kernels",
      "Kernels over tensors to CPU workgroup kernels over memrefs, each with its grid",
      [](OpPassManager &pm, const WorkgroupKernelsOptions &o) {
        buildCpuWorkgroupKernelsPipeline(
            pm, {o.targetWorkgroups, o.vectorize, o.vectorBits, o.bf16Dot, o.amx});
      });
  PassPipelineRegistration<>("bertc-cpu-lower-to-llvm",
                             "CPU workgroup kernels to the LLVM dialect with the kernel ABI",
                             buildCpuLowerToLLVMPipeline);
}

LogicalResult buildWorkgroupKernels(ModuleOp kernels, rt::Program &program,
                                    const CpuPipelineOptions &options) {
  PassManager pm(kernels.getContext());
  (void)applyPassManagerCLOptions(pm);
  buildCpuWorkgroupKernelsPipeline(pm, options);
  if (failed(pm.run(kernels)))
    return failure();
  return readWorkgroupGrids(kernels, program);
}

LogicalResult lowerKernelsToLLVM(ModuleOp kernels, const rt::Program &program) {
  PassManager pm(kernels.getContext());
  (void)applyPassManagerCLOptions(pm);
  buildCpuLowerToLLVMPipeline(pm);
  if (failed(pm.run(kernels)))
    return failure();
  addProgramGlobal(kernels, program);
  return success();
}

} // namespace bertc::cpu
