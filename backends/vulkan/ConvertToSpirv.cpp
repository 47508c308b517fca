//===- ConvertToSpirv.cpp - gpu.modules to spirv.modules ------------------===//
#include "backends/vulkan/Passes.h"

#include "mlir/Conversion/ArithToSPIRV/ArithToSPIRV.h"
#include "mlir/Conversion/FuncToSPIRV/FuncToSPIRV.h"
#include "mlir/Conversion/GPUToSPIRV/GPUToSPIRV.h"
#include "mlir/Conversion/MathToSPIRV/MathToSPIRV.h"
#include "mlir/Conversion/MemRefToSPIRV/MemRefToSPIRV.h"
#include "mlir/Conversion/SCFToSPIRV/SCFToSPIRV.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/SPIRVConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace bertc::vulkan {

#define GEN_PASS_DEF_VULKANAPPROXIMATEERF
#define GEN_PASS_DEF_VULKANCONVERTTOSPIRV
#include "backends/vulkan/Passes.h.inc"

namespace {

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

struct VulkanConvertToSpirv : impl::VulkanConvertToSpirvBase<VulkanConvertToSpirv> {
  void runOnOperation() override {
    ModuleOp kernels = getOperation();
    // What the strategy and the distribution recorded is read by now.
    kernels.walk([](Operation *op) {
      if (isa<gpu::GPUModuleOp, gpu::GPUFuncOp>(op))
        for (NamedAttribute a : llvm::to_vector(op->getDiscardableAttrs()))
          if (a.getName().strref().starts_with("bertc."))
            op->removeAttr(a.getName());
    });
    if (failed(convertToSpirv(kernels)))
      return signalPassFailure();
    // Barriers also order the invocations' storage buffer accesses (a
    // kernel writes its outputs and reads them back); gpu.barrier orders
    // only workgroup memory.
    kernels.walk([](spirv::ControlBarrierOp barrier) {
      barrier.setMemorySemantics(barrier.getMemorySemantics() |
                                 spirv::MemorySemantics::UniformMemory);
    });
  }
};

struct VulkanApproximateErf : impl::VulkanApproximateErfBase<VulkanApproximateErf> {
  void runOnOperation() override {
    RewritePatternSet approximations(&getContext());
    approximations.add<math::ErfPolynomialApproximation>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(approximations))))
      signalPassFailure();
  }
};

} // namespace

} // namespace bertc::vulkan
