//===- Reductions.cpp - Normalisation and reductions ------------------------===//
#include "passes/lowering/Lowering.h"

#include <numeric>

namespace bertc::lowering {

namespace {

/// Two reductions, each with one combiner so that it vectorises: the
/// maximum (maxnumf from -inf: NaN ignored), then the first index whose
/// element is not below it (a min of the index, or the axis length where
/// it is below). A NaN is never below, so a row of NaN gives its first.
struct ArgmaxPattern : GraphPattern<gr::ArgmaxOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::ArgmaxOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = a.getX();
    RankedTensorType type = tensorType(x);
    RankedTensorType indexType = tensorType(op.getResult());
    int64_t rank = type.getRank(), axis = op.getAxis();
    Value max = reduce(rw, loc, x, {axis}, -INFINITY, [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
      return b.create<arith::MaxNumFOp>(l, v, acc);
    });
    int64_t length = type.getDimSize(axis);
    Value past = rw.create<arith::ConstantOp>(loc, rw.getI32IntegerAttr(length));
    Value indexInit =
        rw.create<linalg::FillOp>(loc, past, emptyTensor(rw, loc, indexType)).getResult(0);
    AffineMap out = droppedAxesMap(rw.getContext(), rank, {axis});
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    auto first = rw.create<linalg::GenericOp>(
        loc, TypeRange{indexType}, ValueRange{x, max}, ValueRange{indexInit},
        ArrayRef<AffineMap>{rw.getMultiDimIdentityMap(rank), out, out}, iterators,
        [&](OpBuilder &b, Location l, ValueRange v) {
          Value index =
              b.create<arith::IndexCastOp>(l, b.getI32Type(), b.create<linalg::IndexOp>(l, axis));
          Value notBelow = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UGE, v[0], v[1]);
          Value candidate = b.create<arith::SelectOp>(
              l, notBelow, index, b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(length)));
          b.create<linalg::YieldOp>(l, ValueRange{b.create<arith::MinSIOp>(l, candidate, v[2])});
        });
    rw.replaceOp(op, first.getResult(0));
    return success();
  }
};

struct SoftmaxPattern : GraphPattern<gr::SoftmaxOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::SoftmaxOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = a.getX();
    RankedTensorType type = tensorType(x);
    int64_t axis = op.getAxis();
    MLIRContext *ctx = rw.getContext();
    AffineMap id = rw.getMultiDimIdentityMap(type.getRank());
    AffineMap dropped = droppedAxesMap(ctx, type.getRank(), {axis});
    // max, exp(x - max), sum, e / sum.
    Value max = reduce(rw, loc, x, {axis}, -INFINITY, maxf);
    Value e =
        parallelGeneric(rw, loc, type, {x, max}, {id, dropped},
                        [](OpBuilder &b, Location l, ValueRange v) -> Value {
                          return b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, v[0], v[1]));
                        });
    Value sum = reduce(rw, loc, e, {axis}, 0.0, addf);
    Value y = parallelGeneric(rw, loc, type, {e, sum}, {id, dropped},
                              [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                return b.create<arith::DivFOp>(l, v[0], v[1]);
                              });
    rw.replaceOp(op, y);
    return success();
  }
};

struct LayerNormPattern : GraphPattern<gr::LayerNormOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::LayerNormOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = a.getX();
    RankedTensorType type = tensorType(x);
    int64_t rank = type.getRank(), last = rank - 1;
    double n = static_cast<double>(type.getDimSize(last));
    double eps = op.getEps().convertToDouble();
    MLIRContext *ctx = rw.getContext();
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    AffineMap rows = droppedAxesMap(ctx, rank, {last});
    AffineMap cols = AffineMap::get(rank, 0, getAffineDimExpr(last, ctx), ctx);
    Type t = type.getElementType();
    // sum(x); sum((x - mean)^2); (x - mean) * rsqrt(var + eps) * weight + bias.
    Value sum = reduce(rw, loc, x, {last}, 0.0, addf);
    Value sq =
        reduce(rw, loc, x, sum, {last}, 0.0,
               [&](OpBuilder &b, Location l, Value v, ValueRange rowSum, Value acc) -> Value {
                 Value mean = b.create<arith::DivFOp>(l, rowSum[0], floatConst(b, l, t, n));
                 Value d = b.create<arith::SubFOp>(l, v, mean);
                 return b.create<arith::AddFOp>(l, acc, b.create<arith::MulFOp>(l, d, d));
               });
    Value y = parallelGeneric(
        rw, loc, type, {x, sum, sq, a.getWeight(), a.getBias()}, {id, rows, rows, cols, cols},
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value nv = floatConst(b, l, t, n);
          Value mean = b.create<arith::DivFOp>(l, v[1], nv);
          Value var = b.create<arith::DivFOp>(l, v[2], nv);
          Value stddev =
              b.create<math::SqrtOp>(l, b.create<arith::AddFOp>(l, var, floatConst(b, l, t, eps)));
          Value norm = b.create<arith::DivFOp>(l, b.create<arith::SubFOp>(l, v[0], mean), stddev);
          return b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, norm, v[3]), v[4]);
        });
    rw.replaceOp(op, y);
    return success();
  }
};

/// dx = (gw - mean(gw) - x_hat mean(gw x_hat)) / sigma, gw = grad * weight.
struct LayerNormGradPattern : GraphPattern<gr::LayerNormGradOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::LayerNormGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value x = a.getX(), g = a.getGrad(), w = a.getWeight();
    RankedTensorType type = tensorType(x);
    int64_t rank = type.getRank(), last = rank - 1;
    double n = static_cast<double>(type.getDimSize(last));
    double eps = op.getEps().convertToDouble();
    Type t = type.getElementType();
    MLIRContext *ctx = rw.getContext();
    AffineMap id = rw.getMultiDimIdentityMap(rank);
    AffineMap rows = droppedAxesMap(ctx, rank, {last});
    AffineMap cols = AffineMap::get(rank, 0, getAffineDimExpr(last, ctx), ctx);
    // Row statistics as in the forward pass.
    Value sum = reduce(rw, loc, x, {last}, 0.0, addf);
    Value sq = reduce(rw, loc, x, sum, {last}, 0.0,
                      [&](OpBuilder &b, Location l, Value v, ValueRange s, Value acc) -> Value {
                        Value d = b.create<arith::SubFOp>(
                            l, v, b.create<arith::DivFOp>(l, s[0], floatConst(b, l, t, n)));
                        return b.create<arith::AddFOp>(l, acc, b.create<arith::MulFOp>(l, d, d));
                      });
    // x_hat and 1/sigma of an element from its row's sums.
    auto normalise = [&](OpBuilder &b, Location l, Value v, Value s, Value q) {
      Value nv = floatConst(b, l, t, n);
      Value inv = b.create<arith::DivFOp>(
          l, floatConst(b, l, t, 1.0),
          b.create<math::SqrtOp>(l, b.create<arith::AddFOp>(l, b.create<arith::DivFOp>(l, q, nv),
                                                            floatConst(b, l, t, eps))));
      Value xhat = b.create<arith::MulFOp>(
          l, b.create<arith::SubFOp>(l, v, b.create<arith::DivFOp>(l, s, nv)), inv);
      return std::make_pair(xhat, inv);
    };
    RankedTensorType rowsType = tensorType(sum);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters[last] = utils::IteratorType::reduction;
    // sum(gw) and sum(gw x_hat) per row, as two reductions: one op with two
    // outputs whose (equal, CSE-merged) initial values share a tensor would
    // make bufferization alias the accumulators.
    auto rowSum = [&](bool timesXhat) {
      return rw
          .create<linalg::GenericOp>(
              loc, rowsType, ValueRange{x, g, w, sum, sq}, filled(rw, loc, rowsType, 0.0),
              ArrayRef<AffineMap>{id, id, cols, rows, rows, rows}, iters,
              [&](OpBuilder &b, Location l, ValueRange v) {
                Value gw = b.create<arith::MulFOp>(l, v[1], v[2]);
                if (timesXhat)
                  gw = b.create<arith::MulFOp>(l, gw, normalise(b, l, v[0], v[3], v[4]).first);
                b.create<linalg::YieldOp>(l, Value(b.create<arith::AddFOp>(l, v[5], gw)));
              })
          .getResult(0);
    };
    Value s1 = rowSum(false), s2 = rowSum(true);
    Value dx = parallelGeneric(
        rw, loc, type, {x, g, w, sum, sq, s1, s2}, {id, id, cols, rows, rows, rows, rows},
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          auto [xhat, inv] = normalise(b, l, v[0], v[3], v[4]);
          Value nv = floatConst(b, l, t, n);
          Value gw = b.create<arith::MulFOp>(l, v[1], v[2]);
          Value centred = b.create<arith::SubFOp>(l, gw, b.create<arith::DivFOp>(l, v[5], nv));
          Value proj = b.create<arith::MulFOp>(l, xhat, b.create<arith::DivFOp>(l, v[6], nv));
          return b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, centred, proj), inv);
        });
    rw.replaceOp(op, dx);
    return success();
  }
};

template <typename OpTy, bool isMean> struct ReducePattern : GraphPattern<OpTy> {
  using GraphPattern<OpTy>::GraphPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(a.getX());
    SmallVector<int64_t> axes(op.getAxes());
    if (axes.empty()) {
      axes.resize(type.getRank());
      std::iota(axes.begin(), axes.end(), 0);
    }
    llvm::sort(axes);
    Value r = reduce(rw, loc, a.getX(), axes, 0.0, addf);
    if (isMean) {
      double count = 1;
      for (int64_t axis : axes)
        count *= type.getDimSize(axis);
      r = elementwise(
          rw, loc, tensorType(r), r, [&](OpBuilder &b, Location l, ArrayRef<Value> v) -> Value {
            return b.create<arith::DivFOp>(l, v[0], floatConst(b, l, v[0].getType(), count));
          });
    }
    rw.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<SoftmaxPattern, LayerNormPattern, LayerNormGradPattern,
               ReducePattern<gr::SumOp, false>, ReducePattern<gr::MeanOp, true>, ArgmaxPattern>(
      patterns.getContext());
}

} // namespace bertc::lowering
