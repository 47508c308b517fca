//===- SelectStrategy.cpp - Workgroup tiles and vector blocks per kernel --===//
#include "backends/common/Strategy.h"
#include "backends/cpu/Internal.h"
#include "backends/cpu/Passes.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace bertc::cpu {

#define GEN_PASS_DEF_CPUSELECTSTRATEGY
#include "backends/cpu/Passes.h.inc"

VectorStrategy VectorStrategy::forVectorBits(int64_t bits) {
  VectorStrategy s;
  if (bits >= 512) {
    // 32 zmm registers: 16 accumulators (8 rows of two vectors), two loads
    // of B and eight broadcasts of A per step of K, enough independent FMAs
    // to cover their latency on two FMA pipes.
    s.registerRows = 8;
    s.registerCols = 32;
  }
  return s;
}

DictionaryAttr VectorStrategy::toAttr(MLIRContext *ctx) const {
  Builder b(ctx);
  auto entry = [&](StringRef key, int64_t v) {
    return b.getNamedAttr(key, b.getI64IntegerAttr(v));
  };
  return b.getDictionaryAttr(
      {entry("register_block_rows", registerRows), entry("register_block_cols", registerCols),
       entry("k_chunk", kChunk), entry("pack_b", packB), entry("vector", vector),
       entry("transpose", transpose), entry("max_piece_elements", maxPieceElements),
       entry("bf16_dot", bf16Dot), entry("amx", amx)});
}

std::optional<VectorStrategy> VectorStrategy::of(Operation *kernel) {
  auto strategy = kernel->getAttrOfType<DictionaryAttr>(kStrategyAttr);
  if (!strategy || !strategy.contains("vector"))
    return std::nullopt;
  VectorStrategy s;
  s.registerRows = strategyValue(kernel, "register_block_rows", s.registerRows);
  s.registerCols = strategyValue(kernel, "register_block_cols", s.registerCols);
  s.kChunk = strategyValue(kernel, "k_chunk", s.kChunk);
  s.packB = strategyValue(kernel, "pack_b", s.packB);
  s.vector = strategyValue(kernel, "vector", s.vector);
  s.transpose = strategyValue(kernel, "transpose", s.transpose);
  s.maxPieceElements = strategyValue(kernel, "max_piece_elements", s.maxPieceElements);
  s.bf16Dot = strategyValue(kernel, "bf16_dot", s.bf16Dot);
  s.amx = strategyValue(kernel, "amx", s.amx);
  return s;
}

namespace {

struct CpuSelectStrategy : impl::CpuSelectStrategyBase<CpuSelectStrategy> {
  using CpuSelectStrategyBase::CpuSelectStrategyBase;
  void runOnOperation() override {
    ModuleOp kernels = getOperation();
    VectorStrategy vectors = VectorStrategy::forVectorBits(vectorBits);
    vectors.bf16Dot = bf16Dot;
    vectors.amx = amx;
    WorkgroupTileLimits limits;
    limits.targetWorkgroups = targetWorkgroups;
    // Matmul tiles hold whole register blocks (AMX's of 32 rows where
    // used), other tiles whole vectors.
    limits.matmulRowGranule = amx ? 32 : vectors.registerRows;
    limits.colGranule = vectors.registerCols;
    limits.batchesFirst = true;
    setWorkgroupTiles(kernels, limits);
    if (vectorize) {
      DictionaryAttr strategy = vectors.toAttr(&getContext());
      for (auto kernel : kernels.getOps<func::FuncOp>())
        kernel->setAttr(kStrategyAttr, strategy);
    }
    setKernelOpBlocks(kernels, {attentionRows, attentionKeys, scatterColumnBlocks, lossRows});
  }
};

} // namespace

} // namespace bertc::cpu
