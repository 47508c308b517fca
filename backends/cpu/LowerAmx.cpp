//===- LowerAmx.cpp - bf16 block products on AMX tiles --------------------===//
//
// bertc-cpu-lower-amx (Passes.td): the block products PairedMatmul.cpp
// marked `bertc.amx_tiles`, on buffers, to AMX tile loads, tdpbf16ps and
// tile stores.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Internal.h"
#include "backends/cpu/Passes.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace bertc::cpu {

#define GEN_PASS_DEF_CPULOWERAMX
#include "backends/cpu/Passes.h.inc"

namespace {

constexpr int64_t kTile = 16; ///< Rows of every tile, f32 columns of C's.

/// `operand` (a buffer of rank 2 or 3 whose last two axes are contiguous)
/// as a 2-D buffer of its first axis by its row stride, so that the AMX
/// lowering's row stride (its last size) is the buffer's.
Value rowsByStride(RewriterBase &rw, Location loc, Value operand) {
  auto type = cast<MemRefType>(operand.getType());
  auto meta = rw.create<memref::ExtractStridedMetadataOp>(loc, operand);
  Value stride = meta.getStrides()[0];
  auto view = MemRefType::get(
      {type.getDimSize(0), ShapedType::kDynamic}, type.getElementType(),
      StridedLayoutAttr::get(rw.getContext(), ShapedType::kDynamic, {ShapedType::kDynamic, 1}));
  return rw.create<memref::ReinterpretCastOp>(
      loc, view, meta.getBaseBuffer(), OpFoldResult(meta.getOffset()),
      ArrayRef<OpFoldResult>{rw.getIndexAttr(type.getDimSize(0)), stride},
      ArrayRef<OpFoldResult>{stride, rw.getIndexAttr(1)});
}

LogicalResult lowerBlock(RewriterBase &rw, linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return op.emitOpError("marked ") << kAmxTilesAttr << " but not a block product on buffers";
  Value a3 = op.getDpsInputOperand(0)->get(), b3 = op.getDpsInputOperand(1)->get(),
        c = op.getDpsInitOperand(0)->get();
  auto aType = cast<MemRefType>(a3.getType()), bType = cast<MemRefType>(b3.getType()),
       cType = cast<MemRefType>(c.getType());
  if (aType.getRank() != 3 || bType.getRank() != 3 || cType.getRank() != 2 ||
      !aType.hasStaticShape() || !bType.hasStaticShape() || !cType.hasStaticShape())
    return op.emitOpError("an AMX block needs static A3 (rows x pairs x 2), B3 (pairs x cols x 2) "
                          "and C (rows x cols)");
  int64_t rows = aType.getDimSize(0), pairs = aType.getDimSize(1), cols = cType.getDimSize(1);
  if (rows % kTile || pairs % kTile || cols % kTile || bType.getDimSize(0) != pairs ||
      bType.getDimSize(1) != cols || cType.getDimSize(0) != rows || aType.getDimSize(2) != 2 ||
      bType.getDimSize(2) != 2 || !aType.getElementType().isBF16() ||
      !bType.getElementType().isInteger(16) || !cType.getElementType().isF32())
    return op.emitOpError("an AMX block needs rows, cols and pairs in multiples of 16, bf16 A, "
                          "bf16 bits (i16) B and f32 C; got ")
           << aType << ", " << bType << ", " << cType;
  Location loc = op.getLoc();
  rw.setInsertionPoint(op);
  llvm::DenseMap<int64_t, Value> constants;
  auto index = [&](int64_t v) {
    Value &c = constants[v];
    if (!c)
      c = rw.create<arith::ConstantIndexOp>(loc, v);
    return c;
  };
  // A: rows x K (K = 2 pairs, contiguous); B: pairs x 2 cols.
  auto collapse = [&](Value v) {
    return rw.create<memref::CollapseShapeOp>(loc, v, ArrayRef<ReassociationIndices>{{0}, {1, 2}})
        .getResult();
  };
  Value aRows = rowsByStride(rw, loc, collapse(a3));
  Value bRows = rowsByStride(rw, loc, collapse(b3));
  Value cRows = rowsByStride(rw, loc, c);
  Type bf16 = rw.getBF16Type(), f32 = rw.getF32Type();
  auto inputTile = VectorType::get({kTile, 2 * kTile}, bf16);
  auto accTile = VectorType::get({kTile, kTile}, f32);
  int64_t rowTiles = rows / kTile, colTiles = cols / kTile;
  SmallVector<Value> acc;
  for (int64_t r = 0; r < rowTiles; ++r)
    for (int64_t g = 0; g < colTiles; ++g)
      acc.push_back(rw.create<amx::TileLoadOp>(loc, accTile, cRows,
                                               ValueRange{index(r * kTile), index(g * kTile)}));
  // Each step: 32 of K, i.e. 16 pairs.
  for (int64_t p0 = 0; p0 < pairs; p0 += kTile) {
    SmallVector<Value> aTiles, bTiles;
    for (int64_t r = 0; r < rowTiles; ++r)
      aTiles.push_back(rw.create<amx::TileLoadOp>(loc, inputTile, aRows,
                                                  ValueRange{index(r * kTile), index(2 * p0)}));
    for (int64_t g = 0; g < colTiles; ++g)
      bTiles.push_back(rw.create<amx::TileLoadOp>(loc, inputTile, bRows,
                                                  ValueRange{index(p0), index(2 * kTile * g)}));
    for (int64_t r = 0; r < rowTiles; ++r)
      for (int64_t g = 0; g < colTiles; ++g) {
        Value &t = acc[r * colTiles + g];
        t = rw.create<amx::TileMulFOp>(loc, accTile, aTiles[r], bTiles[g], t);
      }
  }
  for (int64_t r = 0; r < rowTiles; ++r)
    for (int64_t g = 0; g < colTiles; ++g)
      rw.create<amx::TileStoreOp>(loc, cRows, ValueRange{index(r * kTile), index(g * kTile)},
                                  acc[r * colTiles + g]);
  rw.eraseOp(op);
  return success();
}

struct CpuLowerAmx : impl::CpuLowerAmxBase<CpuLowerAmx> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> blocks;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kAmxTilesAttr))
        blocks.push_back(op);
    });
    // The strategy's `amx` 2: the blocks stay loops.
    std::optional<VectorStrategy> strategy = VectorStrategy::of(getOperation());
    bool tiles = !strategy || strategy->amx != 2;
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : blocks) {
      if (!tiles) {
        op->removeAttr(kAmxTilesAttr);
        continue;
      }
      if (failed(lowerBlock(rewriter, op)))
        return signalPassFailure();
    }
  }
};

} // namespace

} // namespace bertc::cpu
