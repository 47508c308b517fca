//===- LowerToLLVM.cpp - The CPU back end's lowering steps ----------------===//
//
// The steps of bertc-cpu-lower-to-llvm that are bertc's own (the rest are
// MLIR's conversions, in backends/cpu/Pipelines.cpp), and the program's
// description as a global.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/cpu/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace bertc::cpu {

#define GEN_PASS_DEF_CPUADDENTRYPOINTS
#define GEN_PASS_DEF_CPUAPPROXIMATEMATH
#define GEN_PASS_DEF_CPUEXPANDBF16
#define GEN_PASS_DEF_CPUHOISTACCUMULATORS
#define GEN_PASS_DEF_CPUHOISTSTATICALLOCAS
#define GEN_PASS_DEF_CPULOWERVECTORS
#include "backends/cpu/Passes.h.inc"

namespace {

/// Vector contractions become outer products (FMAs on registers), transfers
/// become plain loads and stores; then the vector dialect meets LLVM.
struct CpuLowerVectors : impl::CpuLowerVectorsBase<CpuLowerVectors> {
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
struct CpuHoistAccumulators : impl::CpuHoistAccumulatorsBase<CpuHoistAccumulators> {
  void runOnOperation() override { linalg::hoistRedundantVectorTransfers(getOperation()); }
};

/// Moves fixed-size stack buffers (scratch space of vector transfers) from
/// loops to the kernel's entry: an alloca in a loop would grow the stack at
/// every iteration.
struct CpuHoistStaticAllocas : impl::CpuHoistStaticAllocasBase<CpuHoistStaticAllocas> {
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
struct CpuApproximateMath : impl::CpuApproximateMathBase<CpuApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// `type` (a scalar or vector type) with `element` elements.
Type withElement(Type type, Type element) {
  if (auto vt = dyn_cast<VectorType>(type))
    return vt.clone(element);
  return element;
}

/// f32 -> bf16: the upper 16 bits after adding 0x7fff plus the lowest kept
/// bit (rounding to nearest even); a NaN keeps its sign and becomes quiet.
/// All in integers: a select on bf16 values would make LLVM widen them to
/// f32 and back through __truncsfbf2 on CPUs without bf16 instructions.
struct TruncToBf16 : OpRewritePattern<arith::TruncFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::TruncFOp op, PatternRewriter &rw) const override {
    Type in = op.getIn().getType(), out = op.getType();
    if (!getElementTypeOrSelf(in).isF32() || !getElementTypeOrSelf(out).isBF16())
      return failure();
    Location loc = op.getLoc();
    Type i32 = withElement(in, rw.getI32Type()), i16 = withElement(in, rw.getI16Type());
    Value bits = rw.create<arith::BitcastOp>(loc, i32, op.getIn());
    Value c16 = createScalarOrSplatConstant(rw, loc, i32, 16);
    Value lowestKept = rw.create<arith::AndIOp>(loc, rw.create<arith::ShRUIOp>(loc, bits, c16),
                                                createScalarOrSplatConstant(rw, loc, i32, 1));
    Value rounded = rw.create<arith::AddIOp>(
        loc, bits, rw.create<arith::AddIOp>(loc, lowestKept, createScalarOrSplatConstant(rw, loc, i32, 0x7fff)));
    Value magnitude = rw.create<arith::AndIOp>(loc, bits, createScalarOrSplatConstant(rw, loc, i32, 0x7fffffff));
    Value isNaN = rw.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt, magnitude,
                                           createScalarOrSplatConstant(rw, loc, i32, 0x7f800000));
    Value quiet = rw.create<arith::OrIOp>(loc, bits, createScalarOrSplatConstant(rw, loc, i32, 0x00400000));
    Value chosen = rw.create<arith::SelectOp>(loc, isNaN, quiet, rounded);
    Value upper = rw.create<arith::ShRUIOp>(loc, chosen, c16);
    Value half = rw.create<arith::TruncIOp>(loc, i16, upper);
    rw.replaceOpWithNewOp<arith::BitcastOp>(op, out, half);
    return success();
  }
};

/// bf16 -> f32: the bits shifted into the upper half (exact).
struct ExtFromBf16 : OpRewritePattern<arith::ExtFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::ExtFOp op, PatternRewriter &rw) const override {
    Type in = op.getIn().getType(), out = op.getType();
    if (!getElementTypeOrSelf(in).isBF16() || !getElementTypeOrSelf(out).isF32())
      return failure();
    Location loc = op.getLoc();
    Type i32 = withElement(in, rw.getI32Type()), i16 = withElement(in, rw.getI16Type());
    Value half = rw.create<arith::BitcastOp>(loc, i16, op.getIn());
    Value wide = rw.create<arith::ExtUIOp>(loc, i32, half);
    Value bits = rw.create<arith::ShLIOp>(loc, wide, createScalarOrSplatConstant(rw, loc, i32, 16));
    rw.replaceOpWithNewOp<arith::BitcastOp>(op, out, bits);
    return success();
  }
};

/// Conversions between f32 and bf16 as integer operations with rounding to
/// nearest even, on every CPU: LLVM would call a runtime library's
/// __truncsfbf2 where the CPU has no conversion instruction.
struct CpuExpandBf16 : impl::CpuExpandBf16Base<CpuExpandBf16> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<TruncToBf16, ExtFromBf16>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// `void kernel_N_entry(ptr bindings, i64 x, i64 y, i64 z)` loads each
/// binding's pointer and calls the kernel.
void addEntryWrappers(ModuleOp module, ArrayRef<LLVM::LLVMFuncOp> kernels) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto voidTy = LLVM::LLVMVoidType::get(ctx);
  for (LLVM::LLVMFuncOp kernel : kernels) {
    std::string name = kernel.getName().str();
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

/// `bertc_kernels` (entry pointers) and `bertc_kernel_count`.
void addKernelTable(ModuleOp module, ArrayRef<LLVM::LLVMFuncOp> kernels) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto tableType = LLVM::LLVMArrayType::get(ptr, kernels.size());
  auto table = b.create<LLVM::GlobalOp>(loc, tableType, /*isConstant=*/true,
                                        LLVM::Linkage::External, "bertc_kernels", Attribute());
  Block *init = b.createBlock(&table.getInitializerRegion());
  OpBuilder ib = OpBuilder::atBlockBegin(init);
  Value array = ib.create<LLVM::UndefOp>(loc, tableType);
  for (auto [i, k] : llvm::enumerate(kernels)) {
    LLVM::LLVMFuncOp kernel = k;
    Value fn = ib.create<LLVM::AddressOfOp>(loc, ptr, (kernel.getName() + "_entry").str());
    array = ib.create<LLVM::InsertValueOp>(loc, array, fn, static_cast<int64_t>(i));
  }
  ib.create<LLVM::ReturnOp>(loc, array);
  b.setInsertionPointToEnd(module.getBody());
  auto i64 = IntegerType::get(ctx, 64);
  b.create<LLVM::GlobalOp>(loc, i64, /*isConstant=*/true, LLVM::Linkage::External,
                           "bertc_kernel_count",
                           b.getI64IntegerAttr(static_cast<int64_t>(kernels.size())));
}

struct CpuAddEntryPoints : impl::CpuAddEntryPointsBase<CpuAddEntryPoints> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> kernels;
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
      if (!fn.isExternal())
        kernels.push_back(fn);
    addEntryWrappers(module, kernels);
    addKernelTable(module, kernels);
  }
};

} // namespace

void addProgramGlobal(ModuleOp module, const rt::Program &program) {
  MLIRContext *ctx = module.getContext();
  // Before the kernel table, where readers of the LLVM IR look for it.
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  if (Operation *table = module.lookupSymbol("bertc_kernels"))
    b.setInsertionPoint(table);
  std::string json = program.toJson().dump();
  json.push_back('\0');
  auto bytes = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), json.size());
  b.create<LLVM::GlobalOp>(module.getLoc(), bytes, /*isConstant=*/true, LLVM::Linkage::External,
                           "bertc_program", b.getStringAttr(json));
}

} // namespace bertc::cpu
