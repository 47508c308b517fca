//===- DataMovement.cpp - Embeddings, gathers, views, slices ----------------===//
#include "passes/lowering/Lowering.h"

namespace bertc::lowering {

namespace {

struct EmbeddingPattern : GraphPattern<gr::EmbeddingOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::EmbeddingOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType rt = tensorType(op.getResult());
    Value table = a.getTable();
    int64_t rank = rt.getRank(), vocab = tensorType(table).getDimSize(0);
    AffineMap idsMap = droppedAxesMap(rw.getContext(), rank, {rank - 1});
    Value r = parallelGeneric(rw, loc, rt, a.getIds(), {idsMap},
                              [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                Value row = clampedIndex(b, l, v[0], vocab);
                                Value col = b.create<linalg::IndexOp>(l, rank - 1);
                                return b.create<tensor::ExtractOp>(l, table, ValueRange{row, col});
                              });
    rw.replaceOp(op, r);
    return success();
  }
};

struct GatherPattern : GraphPattern<gr::GatherOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::GatherOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType rt = tensorType(op.getResult());
    int64_t axis = op.getAxis(), rank = rt.getRank();
    int64_t bound = tensorType(a.getX()).getDimSize(axis);
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i <= axis; ++i)
      idxExprs.push_back(rw.getAffineDimExpr(i));
    AffineMap idxMap = AffineMap::get(rank, 0, idxExprs, rw.getContext());
    Value x = a.getX();
    Value r = parallelGeneric(rw, loc, rt, a.getIndices(), {idxMap},
                              [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                SmallVector<Value> coords;
                                for (int64_t i = 0; i < rank; ++i)
                                  coords.push_back(i == axis ? clampedIndex(b, l, v[0], bound)
                                                             : b.create<linalg::IndexOp>(l, i));
                                return b.create<tensor::ExtractOp>(l, x, coords);
                              });
    rw.replaceOp(op, r);
    return success();
  }
};

/// dx[b, s, r] = sum over p of grad[b, p, r] where indices[b, p] == s: a
/// reduction over the (few) gathered positions, parallel over everything else.
struct GatherGradPattern : GraphPattern<gr::GatherGradOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::GatherGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType rt = tensorType(op.getResult());
    int64_t axis = op.getAxis(), rank = rt.getRank();
    MLIRContext *ctx = rw.getContext();
    // Loops: the result's axes, then p.
    int64_t p = rank;
    SmallVector<AffineExpr> idxExprs, gExprs, outExprs;
    for (int64_t i = 0; i < axis; ++i)
      idxExprs.push_back(getAffineDimExpr(i, ctx));
    idxExprs.push_back(getAffineDimExpr(p, ctx));
    for (int64_t i = 0; i < rank; ++i) {
      gExprs.push_back(getAffineDimExpr(i == axis ? p : i, ctx));
      outExprs.push_back(getAffineDimExpr(i, ctx));
    }
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Type t = rt.getElementType();
    Value r = rw.create<linalg::GenericOp>(
                    loc, rt, ValueRange{a.getIndices(), a.getGrad()}, filled(rw, loc, rt, 0.0),
                    ArrayRef<AffineMap>{AffineMap::get(rank + 1, 0, idxExprs, ctx),
                                        AffineMap::get(rank + 1, 0, gExprs, ctx),
                                        AffineMap::get(rank + 1, 0, outExprs, ctx)},
                    iters,
                    [&](OpBuilder &b, Location l, ValueRange v) {
                      Value s = b.create<arith::IndexCastOp>(l, v[0].getType(),
                                                             b.create<linalg::IndexOp>(l, axis));
                      Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, v[0], s);
                      Value add = b.create<arith::SelectOp>(l, hit, v[1], floatConst(b, l, t, 0.0));
                      b.create<linalg::YieldOp>(l, Value(b.create<arith::AddFOp>(l, v[2], add)));
                    })
                  .getResult(0);
    rw.replaceOp(op, r);
    return success();
  }
};

struct ReshapePattern : GraphPattern<gr::ReshapeOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::ReshapeOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, reshapeView(rw, op.getLoc(), a.getX(), tensorType(op.getResult())));
    return success();
  }
};

struct TransposePattern : GraphPattern<gr::TransposeOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::TransposeOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Value init = emptyTensor(rw, op.getLoc(), tensorType(op.getResult()));
    rw.replaceOp(
        op,
        rw.create<linalg::TransposeOp>(op.getLoc(), a.getX(), init, op.getPerm()).getResult()[0]);
    return success();
  }
};

struct SlicePattern : GraphPattern<gr::SliceOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::SliceOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    int64_t start = op.getStart();
    rw.replaceOp(op, copySlice(rw, op.getLoc(), a.getX(), op.getAxis(), start, op.getEnd() - start,
                               tensorType(op.getResult())));
    return success();
  }
};

/// Zeros with the slice's gradient read (tensor.extract) where it belongs.
struct SliceGradPattern : GraphPattern<gr::SliceGradOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::SliceGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value g = a.getX();
    RankedTensorType rt = tensorType(op.getResult());
    int64_t axis = op.getAxis(), start = op.getStart(), len = tensorType(g).getDimSize(axis);
    Value r =
        parallelGeneric(rw, loc, rt, {}, {}, [&](OpBuilder &b, Location l, ValueRange) -> Value {
          SmallVector<Value> coords;
          for (int64_t i = 0; i < rt.getRank(); ++i)
            coords.push_back(b.create<linalg::IndexOp>(l, i));
          Value i = coords[axis];
          Value lo = b.create<arith::ConstantIndexOp>(l, start);
          Value hi = b.create<arith::ConstantIndexOp>(l, start + len);
          Value inside = b.create<arith::AndIOp>(
              l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, i, lo),
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, i, hi));
          Value shifted = b.create<arith::SubIOp>(l, i, lo);
          coords[axis] = b.create<arith::MinSIOp>(
              l, b.create<arith::MaxSIOp>(l, shifted, b.create<arith::ConstantIndexOp>(l, 0)),
              b.create<arith::ConstantIndexOp>(l, len - 1));
          Value v = b.create<tensor::ExtractOp>(l, g, coords);
          return b.create<arith::SelectOp>(l, inside, v,
                                           floatConst(b, l, rt.getElementType(), 0.0));
        });
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateDataMovementPatterns(RewritePatternSet &patterns) {
  patterns.add<EmbeddingPattern, GatherPattern, GatherGradPattern, ReshapePattern, TransposePattern,
               SlicePattern, SliceGradPattern>(patterns.getContext());
}

/// Adds each gradient row into the row of its id, one position after another
/// (an scf.for over positions: ids may repeat, so rows are not independent).
/// Columns are independent: an scf.forall over blocks of columns gives the
/// table's zeroing and the additions to several workgroups.
void lowerEmbeddingGrad(RewriterBase &rw, gr::EmbeddingGradOp op, int64_t columnBlocks) {
  Location loc = op.getLoc();
  RankedTensorType rt = tensorType(op.getResult());
  RankedTensorType gt = tensorType(op.getGrad());
  int64_t rows = rt.getDimSize(0), h = rt.getDimSize(1);
  int64_t positions = gt.getNumElements() / h;
  int64_t block = h;
  for (int64_t parts = std::min(columnBlocks, h); parts > 1; --parts)
    if (h % parts == 0) {
      block = h / parts;
      break;
    }
  Type element = rt.getElementType();
  Value ids =
      reshapeView(rw, loc, op.getIds(),
                  RankedTensorType::get({positions}, tensorType(op.getIds()).getElementType()));
  Value g = reshapeView(rw, loc, op.getGrad(), RankedTensorType::get({positions, h}, element));
  auto forall = rw.create<scf::ForallOp>(loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(0)},
                                         ArrayRef<OpFoldResult>{rw.getIndexAttr(h)},
                                         ArrayRef<OpFoldResult>{rw.getIndexAttr(block)},
                                         ValueRange{emptyTensor(rw, loc, rt)}, std::nullopt);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(forall.getBody());
  Value c0 = forall.getInductionVars()[0];
  OpFoldResult zeroIndex = rw.getIndexAttr(0), oneIndex = rw.getIndexAttr(1);
  auto tableType = RankedTensorType::get({rows, block}, element);
  Value zero = rw.create<arith::ConstantIndexOp>(loc, 0);
  Value one = rw.create<arith::ConstantIndexOp>(loc, 1);
  Value end = rw.create<arith::ConstantIndexOp>(loc, positions);
  // The block's columns of the table, zeroed in place.
  Value columns = rw.create<tensor::ExtractSliceOp>(
      loc, tableType, forall.getRegionIterArgs()[0], ArrayRef<OpFoldResult>{zeroIndex, c0},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(rows), rw.getIndexAttr(block)},
      ArrayRef<OpFoldResult>{oneIndex, oneIndex});
  Value zeroed =
      rw.create<linalg::FillOp>(loc, floatConst(rw, loc, element, 0.0), columns).getResult(0);
  auto loop = rw.create<scf::ForOp>(
      loc, zero, end, one, ValueRange{zeroed},
      [&](OpBuilder &b, Location l, Value p, ValueRange acc) {
        Value row = clampedIndex(b, l, b.create<tensor::ExtractOp>(l, ids, p), rows);
        auto rowType = RankedTensorType::get({1, block}, element);
        SmallVector<OpFoldResult> sizes = {oneIndex, b.getIndexAttr(block)};
        SmallVector<OpFoldResult> strides = {oneIndex, oneIndex};
        Value current = b.create<tensor::ExtractSliceOp>(
            l, rowType, acc[0], ArrayRef<OpFoldResult>{row, zeroIndex}, sizes, strides);
        Value update = b.create<tensor::ExtractSliceOp>(
            l, rowType, g, ArrayRef<OpFoldResult>{p, c0}, sizes, strides);
        Value sum = b.create<linalg::AddOp>(l, ValueRange{current, update}, ValueRange{current})
                        .getResult(0);
        Value next = b.create<tensor::InsertSliceOp>(
            l, sum, acc[0], ArrayRef<OpFoldResult>{row, zeroIndex}, sizes, strides);
        b.create<scf::YieldOp>(l, next);
      });
  rw.setInsertionPointToStart(forall.getTerminator().getBody());
  rw.create<tensor::ParallelInsertSliceOp>(
      loc, loop.getResult(0), forall.getRegionIterArgs()[0], ArrayRef<OpFoldResult>{zeroIndex, c0},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(rows), rw.getIndexAttr(block)},
      ArrayRef<OpFoldResult>{oneIndex, oneIndex});
  rw.replaceOp(op, forall.getResult(0));
}

} // namespace bertc::lowering
