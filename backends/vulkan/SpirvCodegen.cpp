//===- SpirvCodegen.cpp - Workgroup kernels to SPIR-V modules -------------===//
#include "backends/vulkan/VulkanBackend.h"

#include "backends/cpu/CpuBackend.h"
#include "passes/MatmulOps.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToSPIRV/ArithToSPIRV.h"
#include "mlir/Conversion/FuncToSPIRV/FuncToSPIRV.h"
#include "mlir/Conversion/GPUToSPIRV/GPUToSPIRV.h"
#include "mlir/Conversion/MathToSPIRV/MathToSPIRV.h"
#include "mlir/Conversion/MemRefToSPIRV/MemRefToSPIRV.h"
#include "mlir/Conversion/SCFToSPIRV/SCFToSPIRV.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/Transforms/SPIRVConversion.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/SPIRV/Serialization.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace bertc::vulkan {

void registerVulkanBackend(DialectRegistry &registry) {
  cpu::registerCpuBackend(registry);
  registry.insert<gpu::GPUDialect, spirv::SPIRVDialect>();
}

namespace {

/// What the shaders may use: SPIR-V 1.3 with 64-bit integers (the dropout's
/// Philox generator multiplies 32-bit words into 64 bits); with `cluster` >
/// 1, subgroup shuffles among that many lanes too (the shuffles' width must
/// be the target's subgroup size).
spirv::TargetEnvAttr targetEnv(MLIRContext *ctx, int64_t cluster) {
  SmallVector<spirv::Capability> capabilities = {spirv::Capability::Shader,
                                                 spirv::Capability::Int64};
  spirv::ResourceLimitsAttr limits = spirv::getDefaultResourceLimits(ctx);
  if (cluster > 1) {
    capabilities.push_back(spirv::Capability::GroupNonUniform);
    capabilities.push_back(spirv::Capability::GroupNonUniformShuffle);
    limits = spirv::ResourceLimitsAttr::get(
        ctx, limits.getMaxComputeSharedMemorySize(), limits.getMaxComputeWorkgroupInvocations(),
        limits.getMaxComputeWorkgroupSize(), static_cast<int>(cluster), limits.getMinSubgroupSize(),
        limits.getMaxSubgroupSize(), limits.getCooperativeMatrixPropertiesKhr(),
        limits.getCooperativeMatrixPropertiesNv());
  }
  auto triple =
      spirv::VerCapExtAttr::get(spirv::Version::V_1_3, capabilities,
                                {spirv::Extension::SPV_KHR_storage_buffer_storage_class}, ctx);
  return spirv::TargetEnvAttr::get(triple, limits, spirv::ClientAPI::Vulkan);
}

/// gpu.lane_id as the SubgroupLocalInvocationId built-in (neither MLIR's
/// GPU to SPIR-V patterns nor its built-in variable helper know it).
struct LaneIdToSpirv final : OpConversionPattern<gpu::LaneIdOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(gpu::LaneIdOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Operation *module = SymbolTable::getNearestSymbolTable(op->getParentOp());
    constexpr llvm::StringLiteral name = "__builtin__SubgroupLocalInvocationId__";
    auto variable =
        dyn_cast_or_null<spirv::GlobalVariableOp>(SymbolTable::lookupSymbolIn(module, name));
    if (!variable) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(&module->getRegion(0).front());
      variable = rewriter.create<spirv::GlobalVariableOp>(
          loc, spirv::PointerType::get(rewriter.getI32Type(), spirv::StorageClass::Input), name,
          spirv::BuiltIn::SubgroupLocalInvocationId);
    }
    Value lane =
        rewriter.create<spirv::LoadOp>(loc, rewriter.create<spirv::AddressOfOp>(loc, variable));
    Type index = getTypeConverter<SPIRVTypeConverter>()->getIndexType();
    if (index != lane.getType())
      lane = rewriter.create<spirv::UConvertOp>(op.getLoc(), index, lane);
    rewriter.replaceOp(op, lane);
    return success();
  }
};

/// Converts every gpu.module of `kernels` into a spirv.module in its place,
/// as MLIR's convert-gpu-to-spirv does for Vulkan (memory spaces to storage
/// classes, then the gpu, scf, arith, memref, func and math ops) but without
/// keeping the gpu.module, and with gpu.lane_id too. Each module's target is
/// its own.
LogicalResult convertToSpirv(ModuleOp kernels) {
  MLIRContext *ctx = kernels.getContext();
  SmallVector<gpu::GPUModuleOp> modules(kernels.getOps<gpu::GPUModuleOp>());
  for (gpu::GPUModuleOp m : modules) {
    spirv::MemorySpaceToStorageClassConverter storageClasses(
        spirv::mapMemorySpaceToVulkanStorageClass);
    spirv::convertMemRefTypesAndAttrs(m, storageClasses);

    spirv::TargetEnvAttr env = spirv::lookupTargetEnvOrDefault(m);
    std::unique_ptr<ConversionTarget> target = SPIRVConversionTarget::get(env);
    SPIRVTypeConverter types(env);
    RewritePatternSet patterns(ctx);
    populateGPUToSPIRVPatterns(types, patterns);
    patterns.add<LaneIdToSpirv>(types, ctx);
    ScfToSPIRVContext scf;
    populateSCFToSPIRVPatterns(types, scf, patterns);
    arith::populateArithToSPIRVPatterns(types, patterns);
    populateMemRefToSPIRVPatterns(types, patterns);
    populateFuncToSPIRVPatterns(types, patterns);
    populateMathToSPIRVPatterns(types, patterns);
    if (failed(applyFullConversion(m, *target, std::move(patterns))))
      return failure();
  }
  return success();
}

/// Moves the workgroup kernel `fn(memrefs..., x, y, z)` into its own
/// gpu.module as a kernel gpu.func over the memrefs, the workgroup ids
/// read from gpu.block_id and every memref a storage buffer binding.
void toGpuKernel(func::FuncOp fn, int64_t invocations) {
  MLIRContext *ctx = fn.getContext();
  OpBuilder b(fn);
  Location loc = fn.getLoc();
  auto gpuModule = b.create<gpu::GPUModuleOp>(loc, fn.getSymName());
  unsigned numBuffers = fn.getNumArguments() - 3;
  SmallVector<Type> buffers(fn.getArgumentTypes().take_front(numBuffers));
  b.setInsertionPointToStart(gpuModule.getBody());
  auto kernel = b.create<gpu::GPUFuncOp>(loc, fn.getSymName(), b.getFunctionType(buffers, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  kernel->setAttr(spirv::getEntryPointABIAttrName(),
                  spirv::getEntryPointABIAttr(ctx, {static_cast<int32_t>(invocations), 1, 1}));
  for (unsigned i = 0; i < numBuffers; ++i)
    kernel.setArgAttr(i, spirv::getInterfaceVarABIAttrName(),
                      spirv::getInterfaceVarABIAttr(0, i, std::nullopt, ctx));
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  IRMapping map;
  for (unsigned i = 0; i < numBuffers; ++i)
    map.map(fn.getArgument(i), entry.getArgument(i));
  const gpu::Dimension dims[] = {gpu::Dimension::x, gpu::Dimension::y, gpu::Dimension::z};
  for (unsigned i = 0; i < 3; ++i)
    map.map(fn.getArgument(numBuffers + i), b.create<gpu::BlockIdOp>(loc, dims[i]));
  for (Operation &op : fn.getBody().front()) {
    if (isa<func::ReturnOp>(op))
      b.create<gpu::ReturnOp>(op.getLoc());
    else
      b.clone(op, map);
  }
  fn.erase();
  // The scratch buffers (in the Workgroup storage class) become workgroup
  // variables: SPIR-V lowers such a memref.alloc, not an alloca.
  SmallVector<memref::AllocaOp> scratch;
  kernel.walk([&](memref::AllocaOp a) { scratch.push_back(a); });
  for (memref::AllocaOp a : scratch) {
    OpBuilder at(a);
    a.replaceAllUsesWith(at.create<memref::AllocOp>(a.getLoc(), a.getType()).getResult());
    a.erase();
  }
}

/// The kernel's invocation id in its workgroup, read once at its entry.
Value invocationId(gpu::GPUFuncOp kernel) {
  Block &entry = kernel.getBody().front();
  for (auto id : entry.getOps<gpu::ThreadIdOp>())
    if (id.getDimension() == gpu::Dimension::x)
      return id;
  return OpBuilder::atBlockBegin(&entry).create<gpu::ThreadIdOp>(kernel.getLoc(),
                                                                 gpu::Dimension::x);
}

/// A kernel's invocations, as reductions number them.
struct Invocations {
  gpu::GPUFuncOp kernel;
  Value id;              ///< The invocation's id in its workgroup (x).
  int64_t count = 1;     ///< Invocations per workgroup.
  int64_t cluster = 1;   ///< Lanes a reduction may combine by shuffles; 1: none.
  bool shuffled = false; ///< Whether a reduction did.

  /// subgroup id x subgroup size + lane: the invocations numbered subgroup
  /// after subgroup, read once at the kernel's entry.
  Value subgroupPosition() {
    if (position)
      return position;
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    Location loc = kernel.getLoc();
    Value subgroup = b.create<gpu::SubgroupIdOp>(loc, /*upper_bound=*/nullptr);
    Value size = b.create<gpu::SubgroupSizeOp>(loc, b.getIndexType(), /*upper_bound=*/nullptr);
    Value lane = b.create<gpu::LaneIdOp>(loc, /*upper_bound=*/nullptr);
    position = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, subgroup, size), lane);
    return position;
  }

private:
  Value position;
};

/// Whether `op`, or an op inside it, writes memory.
bool writesMemory(Operation *op) {
  bool writes = false;
  op->walk([&](Operation *inner) {
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(inner))
      writes = writes || effects.hasEffect<MemoryEffects::Write>();
  });
  return writes;
}

/// Replaces a parallel loop nest by a serial one, same order.
void serialize(scf::ParallelOp loop) {
  IRRewriter rewriter(loop);
  rewriter.setInsertionPoint(loop);
  scf::LoopNest nest = scf::buildLoopNest(rewriter, loop.getLoc(), loop.getLowerBound(),
                                          loop.getUpperBound(), loop.getStep());
  SmallVector<Value> ivs;
  for (scf::ForOp f : nest.loops)
    ivs.push_back(f.getInductionVar());
  rewriter.eraseOp(loop.getBody()->getTerminator());
  rewriter.inlineBlockBefore(loop.getBody(), nest.loops.back().getBody()->getTerminator(), ivs);
  rewriter.eraseOp(loop);
}

/// Delinearizes `linear` over `sizes` (row-major): the index along each.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<Value> sizes) {
  SmallVector<Value> out(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    out[d] = d == 0 ? linear : b.create<arith::RemUIOp>(loc, linear, sizes[d]).getResult();
    if (d > 0)
      linear = b.create<arith::DivUIOp>(loc, linear, sizes[d]);
  }
  return out;
}

/// `delinearize` over static sizes.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear, ArrayRef<int64_t> sizes) {
  SmallVector<Value> values;
  for (int64_t size : sizes)
    values.push_back(b.create<arith::ConstantIndexOp>(loc, size));
  return delinearize(b, loc, linear, values);
}

/// Runs the iterations of a parallel loop nest over the workgroup's
/// invocations, cyclically: iteration i (row-major) on invocation i mod n,
/// so that neighbouring invocations touch neighbouring elements.
void distribute(scf::ParallelOp loop, Value invocation, int64_t n) {
  IRRewriter rewriter(loop);
  rewriter.setInsertionPoint(loop);
  Location loc = loop.getLoc();
  auto index = [&](int64_t v) { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
  SmallVector<Value> counts;
  Value total = index(1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = rewriter.create<arith::SubIOp>(
        loc,
        rewriter.create<arith::AddIOp>(loc, ub,
                                       rewriter.create<arith::SubIOp>(loc, step, index(1))),
        lb);
    counts.push_back(rewriter.create<arith::DivUIOp>(loc, span, step));
    total = rewriter.create<arith::MulIOp>(loc, total, counts.back());
  }
  auto cyclic = rewriter.create<scf::ForOp>(loc, invocation, total, index(n));
  rewriter.setInsertionPointToStart(cyclic.getBody());
  SmallVector<Value> ivs = delinearize(rewriter, loc, cyclic.getInductionVar(), counts);
  for (size_t d = 0; d < ivs.size(); ++d)
    ivs[d] = rewriter.create<arith::AddIOp>(
        loc, loop.getLowerBound()[d],
        rewriter.create<arith::MulIOp>(loc, ivs[d], loop.getStep()[d]));
  rewriter.eraseOp(loop.getBody()->getTerminator());
  rewriter.inlineBlockBefore(loop.getBody(), cyclic.getBody()->getTerminator(), ivs);
  rewriter.eraseOp(loop);
}

/// The most iterations a reduction's loop should run in one invocation:
/// half of lavapipe's limit (gallivm stops an invocation's loops after
/// 65535 back-edges in all, silently).
constexpr int64_t kMaxLoopIterations = 32768;

/// Marks the steps spreadReduction built: already spread over the
/// invocations, each between barriers.
constexpr llvm::StringLiteral kSpreadAttr = "bertc.spread";

/// The op that folds each element into a reduction's output (its payload
/// yields `combine(out, f(inputs))`, the output read nowhere else), if it
/// is commutative and has a neutral element.
Operation *reductionCombiner(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return nullptr;
  Block &body = *op.getBlock();
  BlockArgument out = body.getArguments().back();
  Operation *combine = body.getTerminator()->getOperand(0).getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 || !out.hasOneUse() ||
      *out.getUsers().begin() != combine || !combine->hasTrait<OpTrait::IsCommutative>() ||
      !arith::getNeutralElement(combine))
    return nullptr;
  return combine;
}

/// A reduction whose output has fewer elements than half the invocations
/// (a sum to one value, a row maximum over a few rows) would leave most of
/// them idle and run long loops in the rest: `g` invocations share each
/// output element instead. Each folds every g-th element of its reduction
/// into a partial result in workgroup memory; after a barrier, one
/// invocation per output element folds the g partial results into it.
/// Returns whether `op` was rewritten.
/// `partials` holds the kernel's buffers of partial results, one per element
/// type: reductions take turns with them, barriers between.
///
/// With subgroup shuffles (`inv.cluster` > 1), the invocations are numbered
/// by subgroup (subgroup id x subgroup size + lane) so that each group of g
/// is made of whole aligned clusters of c lanes, c the largest power of two
/// dividing g up to the cluster: a butterfly of shuffles combines each
/// cluster's partial results in registers, and only every c-th goes
/// through workgroup memory; when c = g, the first lane of each group
/// writes the output itself, with no second step.
bool spreadReduction(linalg::LinalgOp op, Invocations &inv, Attribute workgroupSpace,
                     llvm::DenseMap<Type, Value> &partialBuffers) {
  Value invocation = inv.id;
  int64_t n = inv.count;
  Operation *combine = reductionCombiner(op);
  if (!combine || !op.hasPureBufferSemantics() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isProjectedPermutation())
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<int64_t> parallelSizes, reductionSizes;
  SmallVector<unsigned> parallelDims, reductionDims;
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (ShapedType::isDynamic(ranges[d]))
      return false;
    bool parallel = it == utils::IteratorType::parallel;
    (parallel ? parallelSizes : reductionSizes).push_back(ranges[d]);
    (parallel ? parallelDims : reductionDims).push_back(d);
  }
  int64_t outputs = 1, reduced = 1;
  for (int64_t size : parallelSizes)
    outputs *= size;
  for (int64_t size : reductionSizes)
    reduced *= size;
  int64_t g = n / std::max<int64_t>(outputs, 1);
  if (g < 2 || reduced < g)
    return false;

  OpBuilder b(op);
  Location loc = op.getLoc();
  auto index = [&](int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); };
  Type element = combine->getResult(0).getType();
  Value neutral = b.create<arith::ConstantOp>(loc, *arith::getNeutralElement(combine));
  // The kernel's buffer of partial results of this element type.
  auto partialsBuffer = [&]() {
    Value &buffer = partialBuffers[element];
    if (!buffer) {
      auto gpuFunc = op->getParentOfType<gpu::GPUFuncOp>();
      OpBuilder atEntry = OpBuilder::atBlockBegin(&gpuFunc.getBody().front());
      buffer = atEntry.create<memref::AllocOp>(
          loc, MemRefType::get({n}, element, MemRefLayoutAttrInterface(), workgroupSpace));
    }
    return buffer;
  };
  Block &body = *op.getBlock();
  BlockArgument out = body.getArguments().back();
  Value outBuffer = op.getDpsInitOperand(0)->get();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  // The loop indices, in the op's order, from its parallel and reduction parts.
  auto loopIndices = [&](ArrayRef<Value> parallel, ArrayRef<Value> reduction) {
    SmallVector<Value> all(ranges.size());
    for (auto [d, v] : llvm::zip(parallelDims, parallel))
      all[d] = v;
    for (auto [d, v] : llvm::zip(reductionDims, reduction))
      all[d] = v;
    return all;
  };
  auto apply = [&](OpBuilder &at, AffineMap map, ArrayRef<Value> dims) {
    SmallVector<Value> indices;
    for (AffineExpr e : map.getResults())
      indices.push_back(
          at.create<affine::AffineApplyOp>(loc, AffineMap::get(map.getNumDims(), 0, e), dims));
    return indices;
  };

  // A step of the reduction, run where `who` < `count`; spreadBlock puts
  // barriers around it. Returns a builder into it.
  auto step = [&](Value who, int64_t count) {
    auto guard = b.create<scf::IfOp>(
        loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, who, index(count)),
        /*withElseRegion=*/false);
    guard->setAttr(kSpreadAttr, b.getUnitAttr());
    return OpBuilder::atBlockBegin(guard.thenBlock());
  };

  // Invocations combined by shuffles: a power of two dividing g, for the
  // 32-bit types shuffles carry.
  int64_t cluster = 1;
  if (inv.cluster > 1 && (element.isF32() || element.isInteger(32)))
    while (cluster * 2 <= inv.cluster && g % (cluster * 2) == 0)
      cluster *= 2;
  Value position = cluster > 1 ? inv.subgroupPosition() : invocation;
  // Partial results: invocation t folds reduction elements t % g, + g, ...
  // of output element t / g.
  Value partials;
  Value group = b.create<arith::DivUIOp>(loc, position, index(g));
  Value member = b.create<arith::RemUIOp>(loc, position, index(g));
  // combine(a, b) as the payload's combiner.
  auto combineWith = [&](OpBuilder &where, Value acc, Value partial) {
    IRMapping map;
    for (Value operand : combine->getOperands())
      map.map(operand, operand == out ? acc : partial);
    return where.clone(*combine, map)->getResult(0);
  };
  // The output element at the parallel loop indices `parallel`.
  auto outputAt = [&](OpBuilder &where, ArrayRef<Value> parallel) {
    SmallVector<Value> reductionZeros(reductionDims.size(), index(0));
    return apply(where, outMap, loopIndices(parallel, reductionZeros));
  };
  {
    OpBuilder in = step(group, outputs);
    SmallVector<Value> parallel = delinearize(in, loc, group, parallelSizes);
    // Folds reduction element `k` into `acc`: the payload on the inputs'
    // elements at the loop indices.
    auto fold = [&](OpBuilder &at, Value k, Value acc) {
      SmallVector<Value> dims = loopIndices(parallel, delinearize(at, loc, k, reductionSizes));
      IRMapping map;
      for (OpOperand *input : op.getDpsInputOperands())
        map.map(body.getArgument(input->getOperandNumber()),
                at.create<memref::LoadOp>(loc, input->get(),
                                          apply(at, op.getMatchingIndexingMap(input), dims)));
      map.map(out, acc);
      for (Operation &inner : body.without_terminator()) {
        if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
          map.map(idx.getResult(), dims[idx.getDim()]);
          continue;
        }
        at.clone(inner, map);
      }
      return map.lookup(body.getTerminator()->getOperand(0));
    };
    // Unrolled by 8 (elements k, k + g, ..., k + 7g per iteration), or by
    // as much more (up to 64) as keeps the loop under kMaxLoopIterations:
    // a gradient's sum of squares in BERT-large is 488000 elements per
    // invocation of 64, 3.9 million of 8, far past lavapipe's loop limit.
    int64_t unroll = reduced / g >= 16 ? 8 : 1;
    while (unroll < 64 && reduced / (g * unroll) > kMaxLoopIterations)
      unroll *= 2;
    bool whole = reduced % (g * unroll) == 0;
    auto loop =
        in.create<scf::ForOp>(loc, member, index(reduced), index(g * unroll), ValueRange{neutral});
    OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
    Value acc = loop.getRegionIterArgs()[0];
    for (int64_t j = 0; j < unroll; ++j) {
      Value k = j == 0 ? loop.getInductionVar()
                       : lb.create<arith::AddIOp>(loc, loop.getInductionVar(), index(j * g));
      if (j == 0 || whole) {
        acc = fold(lb, k, acc);
        continue;
      }
      // Past the end in the last iteration: the element is skipped.
      auto inRange = lb.create<scf::IfOp>(
          loc, TypeRange{element},
          lb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, k, index(reduced)),
          /*withElseRegion=*/true);
      OpBuilder then = inRange.getThenBodyBuilder();
      then.create<scf::YieldOp>(loc, fold(then, k, acc));
      OpBuilder otherwise = inRange.getElseBodyBuilder();
      otherwise.create<scf::YieldOp>(loc, acc);
      acc = inRange.getResult(0);
    }
    lb.create<scf::YieldOp>(loc, acc);
    Value partial = loop.getResult(0);
    // The cluster's partial results, combined lane with lane: after the
    // shuffles at distances c/2, ..., 1 every lane holds the cluster's. (The
    // shuffles' width is the target's subgroup size, which SPIR-V ignores:
    // every lane of a subgroup takes part.)
    for (int64_t distance = cluster / 2; distance >= 1; distance /= 2)
      partial = combineWith(
          in, partial,
          in.create<gpu::ShuffleOp>(loc, partial, distance, inv.cluster, gpu::ShuffleMode::XOR)
              .getShuffleResult());
    if (cluster == g) {
      // The group is one cluster: its first lane writes the output.
      inv.shuffled = true;
      auto first = in.create<scf::IfOp>(
          loc, in.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, member, index(0)),
          /*withElseRegion=*/false);
      OpBuilder then = OpBuilder::atBlockBegin(first.thenBlock());
      SmallVector<Value> target = outputAt(then, parallel);
      Value initial = then.create<memref::LoadOp>(loc, outBuffer, target);
      then.create<memref::StoreOp>(loc, combineWith(then, initial, partial), outBuffer, target);
      op->erase();
      return true;
    }
    inv.shuffled = inv.shuffled || cluster > 1;
    partials = partialsBuffer();
    in.create<memref::StoreOp>(loc, partial, partials, position);
  }
  // Each output element folds its group's partial results in (every c-th:
  // the clusters' are alike).
  {
    OpBuilder in = step(invocation, outputs);
    SmallVector<Value> target = outputAt(in, delinearize(in, loc, invocation, parallelSizes));
    Value initial = in.create<memref::LoadOp>(loc, outBuffer, target);
    Value base = in.create<arith::MulIOp>(loc, invocation, index(g));
    auto loop = in.create<scf::ForOp>(loc, index(0), index(g), index(cluster), ValueRange{initial});
    OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
    Value partial = lb.create<memref::LoadOp>(
        loc, partials, ValueRange{lb.create<arith::AddIOp>(loc, base, loop.getInductionVar())});
    lb.create<scf::YieldOp>(loc, combineWith(lb, loop.getRegionIterArgs()[0], partial));
    in.create<memref::StoreOp>(loc, loop.getResult(0), outBuffer, target);
  }
  op->erase();
  return true;
}

/// The largest operand piece staged, in elements (4 KiB of float32, a
/// 32 x 32 piece): two leave half of the 16 KiB of workgroup memory every
/// device has to the kernel's other scratch.
constexpr int64_t kMaxStagedElements = 1024;
/// The smallest matmul tile side staged.
constexpr int64_t kMinStagedTile = 16;

/// Stages a workgroup's matmul through workgroup memory: its K loop in
/// chunks of up to 32, and for each chunk the workgroup copies the pieces of
/// A (rows x chunk) and B (chunk x columns) it needs from the storage buffer
/// into workgroup memory (each element once, the invocations side by side)
/// before every invocation multiplies from there. Operands already in
/// workgroup memory (a fused producer's tile) stay. Not for tiles with a
/// side under kMinStagedTile, nor for those with too few outputs to keep
/// the invocations busy (spreadReduction splits their K loop among the
/// invocations instead).
void stageMatmul(linalg::LinalgOp op, int64_t n, Attribute workgroupSpace) {
  if (!bertc::isMatmul(op) || !op.hasPureBufferSemantics() || op.getNumReductionLoops() != 1)
    return;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t outputs = 1;
  unsigned kDim = 0;
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (ShapedType::isDynamic(ranges[d]))
      return;
    if (it == utils::IteratorType::reduction)
      kDim = d;
    else
      outputs *= ranges[d];
  }
  // Pieces worth the copies: each element of A's piece is used by every
  // column of the tile, each of B's by every row (the loops are [batch,]
  // M, N, K).
  int64_t rows = ranges[ranges.size() - 3], cols = ranges[ranges.size() - 2];
  if (outputs * 2 <= n || rows < kMinStagedTile || cols < kMinStagedTile)
    return;
  // Chunks that divide K: static pieces, no partial chunk.
  int64_t chunk = 0;
  for (int64_t c = std::min<int64_t>(32, ranges[kDim]); c >= 8 && !chunk; --c)
    if (ranges[kDim] % c == 0)
      chunk = c;
  if (!chunk)
    return;
  // The K loop in chunks: each input's view narrowed to the chunk along
  // the dimension K indexes.
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto loop = b.create<scf::ForOp>(loc, b.create<arith::ConstantIndexOp>(loc, 0),
                                   b.create<arith::ConstantIndexOp>(loc, ranges[kDim]),
                                   b.create<arith::ConstantIndexOp>(loc, chunk));
  b.setInsertionPointToStart(loop.getBody());
  IRMapping map;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap indexing = op.getMatchingIndexingMap(input);
    std::optional<unsigned> position = indexing.getResultPosition(b.getAffineDimExpr(kDim));
    auto type = cast<MemRefType>(input->get().getType());
    if (!position)
      continue;
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
    for (int64_t size : type.getShape())
      sizes.push_back(b.getIndexAttr(size));
    offsets[*position] = loop.getInductionVar();
    sizes[*position] = b.getIndexAttr(chunk);
    map.map(input->get(),
            b.create<memref::SubViewOp>(loc, input->get(), offsets, sizes, strides).getResult());
  }
  auto chunked = cast<linalg::LinalgOp>(b.clone(*op, map));
  op->erase();
  SmallVector<int64_t> operands;
  for (OpOperand *input : chunked.getDpsInputOperands()) {
    auto view = input->get().getDefiningOp<memref::SubViewOp>();
    if (view && !cast<MemRefType>(view.getSource().getType()).getMemorySpace() &&
        view.getType().hasStaticShape() && view.getType().getNumElements() <= kMaxStagedElements)
      operands.push_back(input->getOperandNumber());
  }
  if (operands.empty())
    return;
  linalg::LinalgPromotionOptions promotion;
  promotion.setOperandsToPromote(operands);
  // One buffer per operand for the kernel, in workgroup memory.
  promotion.setAllocationDeallocationFns(
      [workgroupSpace](OpBuilder &, memref::SubViewOp view, ArrayRef<Value> bounds,
                       DataLayout &) -> std::optional<Value> {
        SmallVector<int64_t> shape;
        for (Value bound : bounds) {
          std::optional<int64_t> size = getConstantIntValue(bound);
          if (!size)
            return std::nullopt;
          shape.push_back(*size);
        }
        auto kernel = view->getParentOfType<gpu::GPUFuncOp>();
        OpBuilder atEntry = OpBuilder::atBlockBegin(&kernel.getBody().front());
        auto type = MemRefType::get(shape, view.getType().getElementType(),
                                    MemRefLayoutAttrInterface(), workgroupSpace);
        return atEntry.create<memref::AllocOp>(view.getLoc(), type).getResult();
      },
      [](OpBuilder &, Value) { return success(); });
  auto copy = [](OpBuilder &builder, Value from, Value to) {
    builder.create<linalg::CopyOp>(from.getLoc(), from, to);
    return success();
  };
  promotion.setCopyInOutFns(copy, copy);
  OpBuilder at(chunked);
  (void)linalg::promoteSubViews(at, chunked, promotion);
}

/// Spreads the work of a block that every invocation of the workgroup runs
/// alike: each outermost parallel loop nest is distributed over the
/// invocations (the nests inside it run serially), every other op that
/// writes memory runs in invocation 0 alone, and a workgroup barrier
/// separates each such step from what comes before and after it. Ops with
/// regions that hold parallel loops (the loops over attention's key blocks,
/// the guards of horizontally fused kernels) are uniform too: their blocks
/// are spread the same way.
LogicalResult spreadBlock(Block &block, Value invocation, int64_t n) {
  auto hasParallel = [](Operation *op) {
    bool found = false;
    op->walk([&](Operation *inner) {
      found = found || isa<scf::ParallelOp>(inner) || inner->hasAttr(kSpreadAttr);
    });
    return found;
  };
  // A barrier before a step is needed when an op since the last one
  // touched memory (or, in a nested block, may have before it).
  auto barrierBefore = [](Operation *op) {
    for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
      if (isa<gpu::BarrierOp>(prev))
        return;
      if (!isMemoryEffectFree(prev)) {
        OpBuilder(op).create<gpu::BarrierOp>(op->getLoc());
        return;
      }
    }
    if (!isa<gpu::GPUFuncOp>(op->getParentOp()))
      OpBuilder(op).create<gpu::BarrierOp>(op->getLoc());
  };
  auto barrierAfter = [](Operation *op) {
    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(op);
    b.create<gpu::BarrierOp>(op->getLoc());
  };
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  for (Operation *op : ops) {
    if (op->hasAttr(kSpreadAttr)) {
      op->removeAttr(kSpreadAttr);
      barrierBefore(op);
      barrierAfter(op);
      continue;
    }
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      if (loop.getNumResults() != 0)
        return loop.emitError("cannot distribute a parallel loop with results");
      SmallVector<scf::ParallelOp> inner;
      loop.getBody()->walk([&](scf::ParallelOp p) { inner.push_back(p); });
      for (scf::ParallelOp p : inner)
        serialize(p);
      barrierBefore(loop);
      barrierAfter(loop);
      distribute(loop, invocation, n);
      continue;
    }
    if (op->getNumRegions() != 0 && hasParallel(op)) {
      for (Region &region : op->getRegions())
        for (Block &inner : region)
          if (failed(spreadBlock(inner, invocation, n)))
            return failure();
      continue;
    }
    if (!writesMemory(op))
      continue;
    if (op->getNumResults() != 0)
      return op->emitError("cannot run in one invocation: the op has results");
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, invocation,
                                          b.create<arith::ConstantIndexOp>(loc, 0));
    auto guard = b.create<scf::IfOp>(loc, first, /*withElseRegion=*/false);
    op->moveBefore(guard.thenBlock()->getTerminator());
    barrierBefore(guard);
    barrierAfter(guard);
  }
  return success();
}

/// Spreads a workgroup kernel (its linalg ops now parallel loop nests) over
/// `n` invocations; see spreadBlock. No barrier ends the kernel.
LogicalResult spreadOverInvocations(gpu::GPUFuncOp kernel, Value invocation, int64_t n) {
  Block &entry = kernel.getBody().front();
  if (failed(spreadBlock(entry, invocation, n)))
    return failure();
  Operation *last = entry.getTerminator()->getPrevNode();
  if (last && isa<gpu::BarrierOp>(last))
    last->erase();
  return success();
}

/// Keeps a loop's running value in a register: in a loop of straight-line
/// code whose only memory write is a store to one element (the memref and
/// indices defined outside the loop, every load of that memref reading the
/// same element before the store), the element is loaded once before the
/// loop, carried through it, and stored once after it. That is a matmul's
/// accumulator, otherwise read and written back on every step of K. Other
/// memrefs the loop reads are other bindings of the dispatch, which never
/// overlap the written one except elementwise in place (an optimizer
/// update, with no such loop), or workgroup memory of its own.
void accumulateInRegisters(gpu::GPUFuncOp kernel) {
  SmallVector<scf::ForOp> loops;
  kernel.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops) {
    if (loop.getNumRegionIterArgs() != 0)
      continue;
    memref::StoreOp store;
    SmallVector<memref::LoadOp> loads;
    bool straight = true;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto s = dyn_cast<memref::StoreOp>(op)) {
        straight = straight && !store;
        store = s;
      } else if (auto l = dyn_cast<memref::LoadOp>(op)) {
        loads.push_back(l);
      } else {
        straight = straight && op.getNumRegions() == 0 && isMemoryEffectFree(&op);
      }
    }
    if (!straight || !store || !loop.isDefinedOutsideOfLoop(store.getMemRef()) ||
        !llvm::all_of(store.getIndices(), [&](Value v) { return loop.isDefinedOutsideOfLoop(v); }))
      continue;
    SmallVector<memref::LoadOp> accumulator;
    bool same = true;
    for (memref::LoadOp l : loads) {
      if (l.getMemRef() != store.getMemRef())
        continue;
      same = same && llvm::equal(l.getIndices(), store.getIndices()) && l->isBeforeInBlock(store);
      accumulator.push_back(l);
    }
    if (!same)
      continue;
    IRRewriter rewriter(loop);
    rewriter.setInsertionPoint(loop);
    Location loc = store.getLoc();
    Value initial = rewriter.create<memref::LoadOp>(loc, store.getMemRef(), store.getIndices());
    FailureOr<LoopLikeOpInterface> carried =
        loop.replaceWithAdditionalYields(rewriter, initial, /*replaceInitOperandUsesInLoop=*/false,
                                         [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                                           return SmallVector<Value>{store.getValue()};
                                         });
    if (failed(carried))
      continue;
    auto result = cast<scf::ForOp>(carried->getOperation());
    for (memref::LoadOp l : accumulator) {
      rewriter.replaceAllUsesWith(l.getResult(), result.getRegionIterArgs().back());
      rewriter.eraseOp(l);
    }
    rewriter.setInsertionPointAfter(result);
    rewriter.create<memref::StoreOp>(loc, result.getResults().back(), store.getMemRef(),
                                     store.getIndices());
    rewriter.eraseOp(store);
  }
}

/// Unrolls by 4 the innermost serial loops of static trip count: fewer
/// loop back-edges (lavapipe stops any shader invocation's loops after
/// 65535 of them, silently) and more work per branch.
void unrollInnermostLoops(gpu::GPUFuncOp kernel) {
  SmallVector<scf::ForOp> innermost;
  kernel.walk([&](scf::ForOp loop) {
    bool nested = false;
    loop.getBody()->walk([&](scf::ForOp) { nested = true; });
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!nested && lb && ub && step && (*ub - *lb) / *step >= 16)
      innermost.push_back(loop);
  });
  for (scf::ForOp loop : innermost)
    (void)loopUnrollByFactor(loop, 4);
}

} // namespace

LogicalResult buildSpirvKernels(ModuleOp kernels, rt::Program &program,
                                const VulkanOptions &options) {
  MLIRContext *ctx = kernels.getContext();
  cpu::CpuOptions workgroups;
  workgroups.targetWorkgroups = options.targetWorkgroups;
  workgroups.vectorize = false;
  workgroups.scratchMemorySpace = spirv::StorageClassAttr::get(ctx, spirv::StorageClass::Workgroup);
  workgroups.evenTiles = true;
  // Small tiles: each workgroup keeps its producers' tiles in workgroup
  // memory, tens of kilobytes; at least an iteration per invocation.
  workgroups.tiles.minIterations = std::max<int64_t>(64, options.invocations);
  workgroups.tiles.maxFusedTile = 512;
  workgroups.tiles.maxMatmulRows = 32;
  workgroups.tiles.maxMatmulCols = 32;
  workgroups.tiles.matmulRowGranule = 1;
  workgroups.tiles.colGranule = 1;
  if (failed(cpu::buildWorkgroupKernels(kernels, program, workgroups)))
    return failure();

  SmallVector<func::FuncOp> fns(kernels.getOps<func::FuncOp>());
  for (func::FuncOp fn : fns)
    toGpuKernel(fn, options.invocations);
  program.invocations = options.invocations;
  kernels->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
  kernels->setAttr(spirv::getTargetEnvAttrName(), targetEnv(ctx, /*cluster=*/1));

  // Scalar loops over buffers, views folded into their loads and stores,
  // erf (exact GELU) as a polynomial; then SPIR-V.
  PassManager pm(ctx);
  (void)applyPassManagerCLOptions(pm);
  OpPassManager &inGpu = pm.nest<gpu::GPUModuleOp>();
  // First the copies of a buffer onto itself go (a workgroup kernel's
  // result written to its destination): as loops, every workgroup would
  // copy the whole output over the others' tiles.
  inGpu.addPass(createCSEPass());
  inGpu.addPass(createCanonicalizerPass());
  if (failed(pm.run(kernels)))
    return failure();

  // Each kernel's second module, its reductions combined through subgroup
  // shuffles, after the first ones (the kernels' modules are in kernel
  // order), with its kernel's index; kept where a reduction uses them.
  llvm::MapVector<Operation *, int64_t> seconds;
  if (options.subgroupCluster > 1) {
    SmallVector<gpu::GPUModuleOp> firsts(kernels.getOps<gpu::GPUModuleOp>());
    OpBuilder atEnd = OpBuilder::atBlockEnd(kernels.getBody());
    for (auto [k, m] : llvm::enumerate(firsts)) {
      auto second = cast<gpu::GPUModuleOp>(atEnd.clone(*m));
      second.setName((m.getName() + "_subgroups").str());
      second->setAttr(spirv::getTargetEnvAttrName(), targetEnv(ctx, options.subgroupCluster));
      seconds[second] = static_cast<int64_t>(k);
    }
  }
  SmallVector<gpu::GPUModuleOp> unshuffled;
  kernels.walk([&](gpu::GPUFuncOp kernel) {
    Invocations inv;
    inv.kernel = kernel;
    inv.id = invocationId(kernel);
    inv.count = options.invocations;
    auto m = kernel->getParentOfType<gpu::GPUModuleOp>();
    if (seconds.count(m))
      inv.cluster = options.subgroupCluster;
    SmallVector<linalg::LinalgOp> matmuls;
    kernel.walk([&](linalg::LinalgOp op) {
      if (bertc::isMatmul(op))
        matmuls.push_back(op);
    });
    for (linalg::LinalgOp op : matmuls)
      stageMatmul(op, options.invocations, workgroups.scratchMemorySpace);
    SmallVector<linalg::LinalgOp> reductions;
    kernel.walk([&](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() > 0)
        reductions.push_back(op);
    });
    llvm::DenseMap<Type, Value> partials;
    for (linalg::LinalgOp op : reductions)
      spreadReduction(op, inv, workgroups.scratchMemorySpace, partials);
    if (seconds.count(m) && !inv.shuffled)
      unshuffled.push_back(m);
  });
  for (gpu::GPUModuleOp m : unshuffled) {
    seconds.erase(m);
    m.erase();
  }
  program.subgroupKernels.clear();
  for (auto [second, kernel] : seconds)
    program.subgroupKernels.push_back(kernel);
  program.subgroupCluster = seconds.empty() ? 0 : options.subgroupCluster;
  PassManager toLoops(ctx);
  (void)applyPassManagerCLOptions(toLoops);
  toLoops.nest<gpu::GPUModuleOp>().addNestedPass<gpu::GPUFuncOp>(
      createConvertLinalgToParallelLoopsPass());
  if (failed(toLoops.run(kernels)))
    return failure();
  WalkResult spread = kernels.walk([&](gpu::GPUFuncOp kernel) {
    if (failed(spreadOverInvocations(kernel, invocationId(kernel), options.invocations)))
      return WalkResult::interrupt();
    accumulateInRegisters(kernel);
    unrollInnermostLoops(kernel);
    return WalkResult::advance();
  });
  if (spread.wasInterrupted())
    return failure();
  // Each kernel's workgroup memory, for the executor to check against the
  // device (a second module needs no more than the first).
  program.workgroupMemory.assign(program.kernels.size(), 0);
  kernels.walk([&](gpu::GPUFuncOp kernel) {
    if (seconds.count(kernel->getParentOfType<gpu::GPUModuleOp>()))
      return;
    auto at = llvm::find(program.kernels, kernel.getName().str());
    if (at == program.kernels.end())
      return;
    int64_t bytes = 0;
    kernel.walk([&](memref::AllocOp alloc) {
      MemRefType type = alloc.getType();
      bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
    });
    program.workgroupMemory[at - program.kernels.begin()] = bytes;
  });
  PassManager simplify(ctx);
  (void)applyPassManagerCLOptions(simplify);
  OpPassManager &inGpuAgain = simplify.nest<gpu::GPUModuleOp>();
  inGpuAgain.addPass(memref::createFoldMemRefAliasOpsPass());
  inGpuAgain.addPass(createLowerAffinePass());
  inGpuAgain.addPass(createCanonicalizerPass());
  if (failed(simplify.run(kernels)))
    return failure();
  RewritePatternSet approximations(ctx);
  approximations.add<math::ErfPolynomialApproximation>(ctx);
  if (failed(applyPatternsAndFoldGreedily(kernels, std::move(approximations))))
    return failure();
  if (failed(convertToSpirv(kernels)))
    return failure();
  PassManager convert(ctx);
  (void)applyPassManagerCLOptions(convert);
  OpPassManager &inSpirv = convert.nest<spirv::ModuleOp>();
  inSpirv.addPass(spirv::createSPIRVLowerABIAttributesPass());
  inSpirv.addPass(spirv::createSPIRVUpdateVCEPass());
  if (failed(convert.run(kernels)))
    return failure();
  // Barriers also order the invocations' storage buffer accesses (a kernel
  // writes its outputs and reads them back); gpu.barrier orders only
  // workgroup memory.
  kernels.walk([&](spirv::ControlBarrierOp barrier) {
    barrier.setMemorySemantics(barrier.getMemorySemantics() |
                               spirv::MemorySemantics::UniformMemory);
  });
  return success();
}

LogicalResult serializeSpirvKernels(ModuleOp kernels,
                                    std::vector<std::vector<uint32_t>> &binaries) {
  for (spirv::ModuleOp m : kernels.getOps<spirv::ModuleOp>()) {
    SmallVector<uint32_t> words;
    if (failed(spirv::serialize(m, words)))
      return failure();
    binaries.emplace_back(words.begin(), words.end());
  }
  return success();
}

void addSpirvGlobals(ModuleOp object, const std::vector<rt::VulkanKernels> &variants) {
  MLIRContext *ctx = object.getContext();
  OpBuilder b = OpBuilder::atBlockEnd(object.getBody());
  Location loc = object.getLoc();
  auto constant = [&](Type type, StringRef name, Attribute value) {
    b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true, LLVM::Linkage::External, name, value);
  };
  rt::Json programs = rt::Json::array();
  for (const rt::VulkanKernels &v : variants)
    programs.push(v.program.toJson());
  std::string json = programs.dump();
  json.push_back('\0');
  constant(LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), json.size()), "bertc_vulkan_program",
           b.getStringAttr(json));
  SmallVector<int32_t> words;
  SmallVector<int64_t> offsets = {0};
  for (const rt::VulkanKernels &v : variants)
    for (const std::vector<uint32_t> &binary : v.spirv) {
      for (uint32_t w : binary)
        words.push_back(static_cast<int32_t>(w));
      offsets.push_back(static_cast<int64_t>(words.size()));
    }
  auto i32 = IntegerType::get(ctx, 32);
  auto i64 = IntegerType::get(ctx, 64);
  auto array = [](Type element, size_t n) {
    return RankedTensorType::get({static_cast<int64_t>(n)}, element);
  };
  constant(LLVM::LLVMArrayType::get(i32, words.size()), "bertc_spirv",
           DenseIntElementsAttr::get(array(i32, words.size()), ArrayRef<int32_t>(words)));
  constant(LLVM::LLVMArrayType::get(i64, offsets.size()), "bertc_spirv_offsets",
           DenseIntElementsAttr::get(array(i64, offsets.size()), ArrayRef<int64_t>(offsets)));
}

} // namespace bertc::vulkan
