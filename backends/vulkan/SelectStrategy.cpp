//===- SelectStrategy.cpp - Workgroup tiles, invocations and staging ------===//
#include "backends/common/Strategy.h"
#include "backends/vulkan/Internal.h"
#include "backends/vulkan/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"

using namespace mlir;

namespace bertc::vulkan {

#define GEN_PASS_DEF_VULKANSELECTSTRATEGY
#include "backends/vulkan/Passes.h.inc"

DictionaryAttr VulkanStrategy::toAttr(MLIRContext *ctx) const {
  Builder b(ctx);
  auto entry = [&](StringRef key, int64_t v) {
    return b.getNamedAttr(key, b.getI64IntegerAttr(v));
  };
  return b.getDictionaryAttr(
      {entry("invocations", invocations), entry("subgroup_cluster", subgroupCluster),
       entry("staged_tile_min", stagedTileMin), entry("staged_elements_max", stagedElementsMax),
       entry("staged_k_chunk", stagedKChunk)});
}

VulkanStrategy VulkanStrategy::of(Operation *kernel) {
  VulkanStrategy s;
  s.invocations = strategyValue(kernel, "invocations", s.invocations);
  s.subgroupCluster = strategyValue(kernel, "subgroup_cluster", s.subgroupCluster);
  s.stagedTileMin = strategyValue(kernel, "staged_tile_min", s.stagedTileMin);
  s.stagedElementsMax = strategyValue(kernel, "staged_elements_max", s.stagedElementsMax);
  s.stagedKChunk = strategyValue(kernel, "staged_k_chunk", s.stagedKChunk);
  return s;
}

namespace {

struct VulkanSelectStrategy : impl::VulkanSelectStrategyBase<VulkanSelectStrategy> {
  using VulkanSelectStrategyBase::VulkanSelectStrategyBase;
  void runOnOperation() override {
    ModuleOp kernels = getOperation();
    MLIRContext *ctx = &getContext();
    // Small tiles: each workgroup keeps its producers' tiles in workgroup
    // memory, tens of kilobytes; at least an iteration per invocation.
    WorkgroupTileLimits limits;
    limits.targetWorkgroups = targetWorkgroups;
    limits.minIterations = std::max<int64_t>(64, invocations);
    limits.maxFusedTile = 512;
    limits.maxMatmulRows = limits.maxMatmulCols = 32;
    limits.matmulRowGranule = limits.colGranule = 1;
    limits.evenTiles = true;
    setWorkgroupTiles(kernels, limits);
    VulkanStrategy strategy;
    strategy.invocations = invocations;
    strategy.subgroupCluster = subgroupCluster;
    DictionaryAttr attr = strategy.toAttr(ctx);
    Attribute workgroupSpace = spirv::StorageClassAttr::get(ctx, spirv::StorageClass::Workgroup);
    for (auto kernel : kernels.getOps<func::FuncOp>()) {
      kernel->setAttr(kStrategyAttr, attr);
      kernel->setAttr(kScratchSpaceAttr, workgroupSpace);
    }
    setKernelOpBlocks(kernels, {attentionRows, attentionKeys, scatterColumnBlocks, lossRows});
  }
};

} // namespace

} // namespace bertc::vulkan
