//===- LowerToLLVM.cpp - Kernels to the LLVM dialect with the kernel ABI --===//
#include "backends/cpu/CpuBackend.h"
#include "backends/cpu/Internal.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Linalg/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bertc::cpu {

void registerCpuBackend(DialectRegistry &registry) {
  registry
      .insert<affine::AffineDialect, arith::ArithDialect, bufferization::BufferizationDialect,
              cf::ControlFlowDialect, func::FuncDialect, index::IndexDialect, linalg::LinalgDialect,
              LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
              tensor::TensorDialect, vector::VectorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerSubsetOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerSubsetOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

namespace {

/// Vector contractions become outer products (FMAs on registers), transfers
/// become plain loads and stores; then the vector dialect meets LLVM.
struct LowerVectorsPass : PassWrapper<LowerVectorsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerVectorsPass)
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    vector::VectorTransformsOptions options;
    options.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    options.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle1D);
    vector::populateVectorContractLoweringPatterns(patterns, options);
    vector::populateVectorTransposeLoweringPatterns(patterns, options);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerParallel);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    vector::populateVectorMaskOpLoweringPatterns(patterns);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    vector::populateVectorTransferLoweringPatterns(patterns, /*maxTransferRank=*/1);
    vector::populateVectorGatherLoweringPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// Matmul accumulators stay in registers across the K loop: their loads and
/// stores move out of it.
struct HoistAccumulatorsPass : PassWrapper<HoistAccumulatorsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HoistAccumulatorsPass)
  void runOnOperation() override { linalg::hoistRedundantVectorTransfers(getOperation()); }
};

/// Moves fixed-size stack buffers (scratch space of vector transfers) from
/// loops to the kernel's entry: an alloca in a loop would grow the stack at
/// every iteration.
struct HoistStaticAllocasPass : PassWrapper<HoistStaticAllocasPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HoistStaticAllocasPass)
  void runOnOperation() override {
    Block &entry = getOperation().getBody().front();
    SmallVector<memref::AllocaOp> allocas;
    getOperation().walk([&](memref::AllocaOp op) {
      if (op->getBlock() != &entry && op.getType().hasStaticShape())
        allocas.push_back(op);
    });
    for (memref::AllocaOp op : allocas)
      op->moveBefore(&entry.front());
  }
};

/// f32 transcendental functions as polynomials (vectorisable, accurate to a
/// few ulp); the rest become libm calls.
struct ApproximateMathPass : PassWrapper<ApproximateMathPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ApproximateMathPass)
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

LogicalResult runLoweringPipeline(ModuleOp module) {
  PassManager pm(module.getContext());
  (void)applyPassManagerCLOptions(pm);
  // Identical subviews merge, so the self-copies bufferization left vanish.
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(std::make_unique<HoistAccumulatorsPass>());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(std::make_unique<LowerVectorsPass>());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addNestedPass<func::FuncOp>(std::make_unique<HoistStaticAllocasPass>());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(std::make_unique<ApproximateMathPass>());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
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
  return pm.run(module);
}

/// `void kernel_N_entry(ptr bindings, i64 x, i64 y, i64 z)` loads each
/// binding's pointer and calls the kernel.
void addEntryWrappers(ModuleOp module, ArrayRef<std::string> kernels) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto voidTy = LLVM::LLVMVoidType::get(ctx);
  for (const std::string &name : kernels) {
    auto kernel = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
    unsigned bindings = kernel.getNumArguments() - 3;
    auto entry = b.create<LLVM::LLVMFuncOp>(
        loc, name + "_entry", LLVM::LLVMFunctionType::get(voidTy, {ptr, i64, i64, i64}));
    Block *block = entry.addEntryBlock(b);
    OpBuilder eb = OpBuilder::atBlockBegin(block);
    SmallVector<Value> args;
    for (unsigned i = 0; i < bindings; ++i) {
      Value slot = eb.create<LLVM::GEPOp>(loc, ptr, ptr, block->getArgument(0),
                                          ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      args.push_back(eb.create<LLVM::LoadOp>(loc, ptr, slot));
    }
    for (unsigned i = 1; i <= 3; ++i)
      args.push_back(block->getArgument(i));
    eb.create<LLVM::CallOp>(loc, kernel, args);
    eb.create<LLVM::ReturnOp>(loc, ValueRange{});
  }
}

/// `bertc_program` (JSON, NUL-terminated), `bertc_kernels` (entry pointers)
/// and `bertc_kernel_count`.
void addProgramGlobals(ModuleOp module, const rt::Program &program) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  std::string json = program.toJson().dump();
  json.push_back('\0');
  auto bytes = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), json.size());
  b.create<LLVM::GlobalOp>(loc, bytes, /*isConstant=*/true, LLVM::Linkage::External,
                           "bertc_program", b.getStringAttr(json));
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto tableType = LLVM::LLVMArrayType::get(ptr, program.kernels.size());
  auto table = b.create<LLVM::GlobalOp>(loc, tableType, /*isConstant=*/true,
                                        LLVM::Linkage::External, "bertc_kernels", Attribute());
  Block *init = b.createBlock(&table.getInitializerRegion());
  OpBuilder ib = OpBuilder::atBlockBegin(init);
  Value array = ib.create<LLVM::UndefOp>(loc, tableType);
  for (auto [i, name] : llvm::enumerate(program.kernels)) {
    Value fn = ib.create<LLVM::AddressOfOp>(loc, ptr, name + "_entry");
    array = ib.create<LLVM::InsertValueOp>(loc, array, fn, static_cast<int64_t>(i));
  }
  ib.create<LLVM::ReturnOp>(loc, array);
  b.setInsertionPointToEnd(module.getBody());
  auto i64 = IntegerType::get(ctx, 64);
  b.create<LLVM::GlobalOp>(loc, i64, /*isConstant=*/true, LLVM::Linkage::External,
                           "bertc_kernel_count",
                           b.getI64IntegerAttr(static_cast<int64_t>(program.kernels.size())));
}

} // namespace

LogicalResult lowerKernelsToLLVM(ModuleOp kernels, const rt::Program &program) {
  if (failed(runLoweringPipeline(kernels)))
    return failure();
  addEntryWrappers(kernels, program.kernels);
  addProgramGlobals(kernels, program);
  return success();
}

} // namespace bertc::cpu
