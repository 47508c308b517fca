//===- Losses.cpp - Cross-entropy and its gradients ------------------------===//
#include "passes/lowering/Lowering.h"

namespace bertc::lowering {

namespace {

/// True for a label that names a class (not `ignore`, in [0, classes)).
Value isLabelled(OpBuilder &b, Location l, Value label, int64_t ignore, int64_t classes) {
  auto cmp = [&](arith::CmpIPredicate p, int64_t c) {
    return b.create<arith::CmpIOp>(l, p, label,
                                   b.create<arith::ConstantIntOp>(l, c, label.getType()));
  };
  return b.create<arith::AndIOp>(l, cmp(arith::CmpIPredicate::ne, ignore),
                                 b.create<arith::AndIOp>(l, cmp(arith::CmpIPredicate::sge, 0),
                                                         cmp(arith::CmpIPredicate::slt, classes)));
}

/// The number of labelled rows (a rank-0 tensor of `t`).
Value countLabelled(OpBuilder &b, Location loc, Value labels, int64_t ignore, int64_t classes,
                    Type t) {
  int64_t rank = tensorType(labels).getRank();
  auto scalarType = RankedTensorType::get({}, t);
  return b
      .create<linalg::GenericOp>(
          loc, scalarType, labels, filled(b, loc, scalarType, 0.0),
          ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, {}, b.getContext())},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
          [&](OpBuilder &nb, Location l, ValueRange v) {
            Value one =
                nb.create<arith::SelectOp>(l, isLabelled(nb, l, v[0], ignore, classes),
                                           floatConst(nb, l, t, 1.0), floatConst(nb, l, t, 0.0));
            nb.create<linalg::YieldOp>(l, Value(nb.create<arith::AddFOp>(l, v[1], one)));
          })
      .getResult(0);
}

/// One element of cross_entropy_grad: `grad / count * (exp(x - max) / sum
/// - onehot)` in column `column` (an index) of a row labelled `label`, 0 on
/// an unlabelled row.
Value crossEntropyGradAt(OpBuilder &b, Location l, Value x, Value max, Value sum, Value label,
                         Value count, Value grad, Value column, int64_t ignore, int64_t classes) {
  Type t = x.getType();
  Value p =
      b.create<arith::DivFOp>(l, b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, x, max)), sum);
  Value hit = b.create<arith::CmpIOp>(
      l, arith::CmpIPredicate::eq, b.create<arith::IndexCastOp>(l, label.getType(), column), label);
  Value onehot =
      b.create<arith::SelectOp>(l, hit, floatConst(b, l, t, 1.0), floatConst(b, l, t, 0.0));
  Value scale = b.create<arith::DivFOp>(l, grad, count);
  Value d = b.create<arith::MulFOp>(l, scale, b.create<arith::SubFOp>(l, p, onehot));
  return b.create<arith::SelectOp>(l, isLabelled(b, l, label, ignore, classes), d,
                                   floatConst(b, l, t, 0.0));
}

/// total / count as a rank-0 tensor, 0 when no row is labelled (count 0).
Value meanOverLabelled(OpBuilder &b, Location loc, Value total, Value count) {
  auto type = tensorType(total);
  Type t = type.getElementType();
  AffineMap none = AffineMap::get(0, 0, {}, b.getContext());
  return parallelGeneric(b, loc, type, {total, count}, {none, none},
                         [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                           Value zero = floatConst(nb, l, t, 0.0);
                           Value any =
                               nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v[1], zero);
                           Value q = nb.create<arith::DivFOp>(l, v[0], v[1]);
                           return nb.create<arith::SelectOp>(l, any, q, zero);
                         });
}

/// exp(x - max) summed into `acc`: the softmax denominator's reduction.
Value addExp(OpBuilder &b, Location l, Value v, ValueRange rowMax, Value acc) {
  Value e = b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, v, rowMax[0]));
  return b.create<arith::AddFOp>(l, e, acc);
}

/// mean over labelled rows of logsumexp(row) - row[label] (the sum over
/// `count` where given).
struct CrossEntropyPattern : GraphPattern<gr::CrossEntropyOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::CrossEntropyOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value logits = a.getLogits();
    RankedTensorType type = tensorType(logits);
    int64_t rank = type.getRank(), last = rank - 1, classes = type.getDimSize(last);
    int64_t ignore = op.getIgnoreIndex();
    Type t = type.getElementType();
    MLIRContext *ctx = rw.getContext();
    Value max = reduce(rw, loc, logits, {last}, -INFINITY, maxf);
    Value sumExp = reduce(rw, loc, logits, max, {last}, 0.0, addExp);
    // Sum of row losses and count of labelled rows, over all rows.
    int64_t rowRank = rank - 1;
    auto scalar = RankedTensorType::get({}, t);
    SmallVector<utils::IteratorType> allReduce(rowRank, utils::IteratorType::reduction);
    AffineMap rowId = rw.getMultiDimIdentityMap(rowRank);
    AffineMap toScalar = AffineMap::get(rowRank, 0, {}, ctx);
    auto totals = rw.create<linalg::GenericOp>(
        loc, TypeRange{scalar, scalar}, ValueRange{max, sumExp, a.getLabels()},
        ValueRange{filled(rw, loc, scalar, 0.0), filled(rw, loc, scalar, 0.0)},
        ArrayRef<AffineMap>{rowId, rowId, rowId, toScalar, toScalar}, allReduce,
        [&](OpBuilder &b, Location l, ValueRange v) {
          Value label = v[2];
          Value valid = isLabelled(b, l, label, ignore, classes);
          SmallVector<Value> coords;
          for (int64_t i = 0; i < rowRank; ++i)
            coords.push_back(b.create<linalg::IndexOp>(l, i));
          coords.push_back(clampedIndex(b, l, label, classes));
          Value picked = b.create<tensor::ExtractOp>(l, logits, coords);
          Value lse = b.create<arith::AddFOp>(l, b.create<math::LogOp>(l, v[1]), v[0]);
          Value loss = b.create<arith::SubFOp>(l, lse, picked);
          Value zero = floatConst(b, l, t, 0.0);
          Value lossOrZero = b.create<arith::SelectOp>(l, valid, loss, zero);
          Value one = b.create<arith::SelectOp>(l, valid, floatConst(b, l, t, 1.0), zero);
          b.create<linalg::YieldOp>(l, ValueRange{b.create<arith::AddFOp>(l, v[3], lossOrZero),
                                                  b.create<arith::AddFOp>(l, v[4], one)});
        });
    Value count = a.getCount() ? a.getCount() : totals.getResult(1);
    Value mean = meanOverLabelled(rw, loc, totals.getResult(0), count);
    rw.replaceOp(op, mean);
    return success();
  }
};

/// grad / count * (softmax(logits) - onehot(label)) on labelled rows.
struct CrossEntropyGradPattern : GraphPattern<gr::CrossEntropyGradOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::CrossEntropyGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value logits = a.getLogits(), labels = a.getLabels();
    RankedTensorType type = tensorType(logits);
    int64_t rank = type.getRank(), last = rank - 1, classes = type.getDimSize(last);
    int64_t ignore = op.getIgnoreIndex();
    MLIRContext *ctx = rw.getContext();
    Value max = reduce(rw, loc, logits, {last}, -INFINITY, maxf);
    Value sumExp = reduce(rw, loc, logits, max, {last}, 0.0, addExp);
    Value count = a.getCount() ? a.getCount()
                               : countLabelled(rw, loc, labels, ignore, classes, type.getElementType());
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    AffineMap rows = droppedAxesMap(ctx, rank, {last});
    AffineMap toScalar = AffineMap::get(rank, 0, {}, ctx);
    Value r = parallelGeneric(rw, loc, type, {logits, max, sumExp, labels, count, a.getGrad()},
                              {id, rows, rows, rows, toScalar, toScalar},
                              [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                return crossEntropyGradAt(b, l, v[0], v[1], v[2], v[3], v[4], v[5],
                                                          b.create<linalg::IndexOp>(l, last),
                                                          ignore, classes);
                              });
    rw.replaceOp(op, r);
    return success();
  }
};

/// cross_entropy_with_grad: a count of the labelled rows, the rows' losses
/// and gradients (graph.cross_entropy_rows, which each back end lowers in
/// its kernel), then the mean of the row losses.
struct CrossEntropyWithGradPattern : GraphPattern<gr::CrossEntropyWithGradOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::CrossEntropyWithGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(a.getLogits());
    Type t = type.getElementType();
    int64_t classes = type.getShape().back(), rows = type.getNumElements() / classes;
    int64_t ignore = op.getIgnoreIndex();
    Value logits = reshapeView(rw, loc, a.getLogits(), RankedTensorType::get({rows, classes}, t));
    Value labels =
        reshapeView(rw, loc, a.getLabels(),
                    RankedTensorType::get({rows}, tensorType(a.getLabels()).getElementType()));
    Value count = a.getCount() ? a.getCount() : countLabelled(rw, loc, labels, ignore, classes, t);
    auto perRow = rw.create<gr::CrossEntropyRowsOp>(loc, logits, labels, count, a.getGrad(),
                                                    op.getIgnoreIndexAttr());
    // The mean over labelled rows (0 when there are none).
    Value total = reduce(rw, loc, perRow.getLosses(), {0}, 0.0, addf);
    Value mean = meanOverLabelled(rw, loc, total, count);
    rw.replaceOp(op, {mean, reshapeView(rw, loc, perRow.getDlogits(), type)});
    return success();
  }
};

} // namespace

void populateLossPatterns(RewritePatternSet &patterns) {
  patterns.add<CrossEntropyPattern, CrossEntropyGradPattern, CrossEntropyWithGradPattern>(
      patterns.getContext());
}

/// One scf.forall over blocks of rows that computes each row's maximum, sum
/// of exponentials, loss and gradient while the rows are in cache.
void lowerCrossEntropyRows(RewriterBase &rw, gr::CrossEntropyRowsOp op, int64_t maxRows) {
  Location loc = op.getLoc();
  Value logits = op.getLogits(), labels = op.getLabels(), count = op.getCount();
  RankedTensorType type = tensorType(logits);
  Type t = type.getElementType();
  int64_t rows = type.getDimSize(0), classes = type.getDimSize(1);
  int64_t ignore = op.getIgnoreIndex();
  MLIRContext *ctx = rw.getContext();
  // Blocks that divide the rows.
  int64_t rb = std::max<int64_t>(1, std::min(maxRows, rows));
  while (rows % rb)
    --rb;
  auto lossesType = RankedTensorType::get({rows}, t);
  auto forall = rw.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(rows)}, ArrayRef<OpFoldResult>{rw.getIndexAttr(rb)},
      ValueRange{emptyTensor(rw, loc, lossesType), emptyTensor(rw, loc, type)}, std::nullopt);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(forall.getBody());
  Value r0 = forall.getInductionVars()[0];
  OpFoldResult zero = rw.getIndexAttr(0), one = rw.getIndexAttr(1);
  OpFoldResult blockRows = rw.getIndexAttr(rb), allClasses = rw.getIndexAttr(classes);
  auto tileType = RankedTensorType::get({rb, classes}, t);
  auto rowsType = RankedTensorType::get({rb}, t);
  auto slice2 = [&](Value source, RankedTensorType type) -> Value {
    return rw.create<tensor::ExtractSliceOp>(loc, type, source, ArrayRef<OpFoldResult>{r0, zero},
                                             ArrayRef<OpFoldResult>{blockRows, allClasses},
                                             ArrayRef<OpFoldResult>{one, one});
  };
  auto slice1 = [&](Value source, RankedTensorType type) -> Value {
    return rw.create<tensor::ExtractSliceOp>(loc, type, source, ArrayRef<OpFoldResult>{r0},
                                             ArrayRef<OpFoldResult>{blockRows},
                                             ArrayRef<OpFoldResult>{one});
  };
  Value x = slice2(logits, tileType);
  Value labelTile =
      slice1(labels, RankedTensorType::get({rb}, tensorType(labels).getElementType()));
  Value max = reduce(rw, loc, x, {1}, -INFINITY, maxf);
  Value sumExp = reduce(rw, loc, x, max, {1}, 0.0, addExp);
  Value losses = forall.getRegionIterArgs()[0], grads = forall.getRegionIterArgs()[1];
  AffineMap id1 = rw.getMultiDimIdentityMap(1), id2 = rw.getMultiDimIdentityMap(2);
  // Each row's loss, log(sum) + max - x[label], 0 when unlabelled.
  Value rowLoss =
      updateInPlace(rw, loc, slice1(losses, rowsType), {max, sumExp, labelTile}, {id1, id1, id1},
                    [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                      Value column = clampedIndex(b, l, v[2], classes);
                      Value picked = b.create<tensor::ExtractOp>(
                          l, x, ValueRange{b.create<linalg::IndexOp>(l, 0), column});
                      Value lse = b.create<arith::AddFOp>(l, b.create<math::LogOp>(l, v[1]), v[0]);
                      return b.create<arith::SelectOp>(l, isLabelled(b, l, v[2], ignore, classes),
                                                       b.create<arith::SubFOp>(l, lse, picked),
                                                       floatConst(b, l, t, 0.0));
                    });
  AffineMap rowOf = AffineMap::get(2, 0, rw.getAffineDimExpr(0));
  AffineMap scalar = AffineMap::get(2, 0, {}, ctx);
  Value rowGrad = updateInPlace(
      rw, loc, slice2(grads, tileType), {x, max, sumExp, labelTile, count, op.getGrad()},
      {id2, rowOf, rowOf, rowOf, scalar, scalar},
      [&](OpBuilder &b, Location l, ValueRange v) -> Value {
        return crossEntropyGradAt(b, l, v[0], v[1], v[2], v[3], v[4], v[5],
                                  b.create<linalg::IndexOp>(l, 1), ignore, classes);
      });
  rw.setInsertionPointToStart(forall.getTerminator().getBody());
  rw.create<tensor::ParallelInsertSliceOp>(loc, rowLoss, losses, ArrayRef<OpFoldResult>{r0},
                                           ArrayRef<OpFoldResult>{blockRows},
                                           ArrayRef<OpFoldResult>{one});
  rw.create<tensor::ParallelInsertSliceOp>(loc, rowGrad, grads, ArrayRef<OpFoldResult>{r0, zero},
                                           ArrayRef<OpFoldResult>{blockRows, allClasses},
                                           ArrayRef<OpFoldResult>{one, one});
  rw.replaceOp(op, forall.getResults());
}

} // namespace bertc::lowering
