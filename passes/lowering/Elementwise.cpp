//===- Elementwise.cpp - Elementwise ops to linalg.generic ------------------===//
#include "passes/lowering/Lowering.h"

namespace bertc::lowering {

namespace {

template <typename OpTy, typename ArithOp> struct BinaryPattern : GraphPattern<OpTy> {
  using GraphPattern<OpTy>::GraphPattern;
  LogicalResult matchAndRewrite(OpTy op, typename OpTy::Adaptor,
                                ConversionPatternRewriter &rw) const override {
    Value r = elementwise(rw, op.getLoc(), tensorType(op.getResult()), {op.getLhs(), op.getRhs()},
                          [](OpBuilder &b, Location loc, ArrayRef<Value> v) -> Value {
                            return b.create<ArithOp>(loc, v[0], v[1]);
                          });
    rw.replaceOp(op, r);
    return success();
  }
};

struct ScalePattern : GraphPattern<gr::ScaleOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::ScaleOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    double factor = op.getFactor().convertToDouble();
    rw.replaceOp(op, elementwise(rw, op.getLoc(), tensorType(op.getResult()), a.getX(),
                                 [&](OpBuilder &b, Location loc, ArrayRef<Value> v) -> Value {
                                   return b.create<arith::MulFOp>(
                                       loc, v[0], floatConst(b, loc, v[0].getType(), factor));
                                 }));
    return success();
  }
};

struct TanhPattern : GraphPattern<gr::TanhOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::TanhOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, elementwise(rw, op.getLoc(), tensorType(op.getResult()), a.getX(),
                                 [](OpBuilder &b, Location loc, ArrayRef<Value> v) -> Value {
                                   return b.create<math::TanhOp>(loc, v[0]);
                                 }));
    return success();
  }
};

struct GeluPattern : GraphPattern<gr::GeluOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::GeluOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    bool tanhForm = op.getApproximate() == "tanh";
    rw.replaceOp(
        op, elementwise(
                rw, op.getLoc(), tensorType(op.getResult()), a.getX(),
                [&](OpBuilder &b, Location loc, ArrayRef<Value> v) -> Value {
                  Type t = v[0].getType();
                  Value x = v[0];
                  Value inner;
                  if (tanhForm) {
                    // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
                    Value x3 = b.create<arith::MulFOp>(loc, x, b.create<arith::MulFOp>(loc, x, x));
                    Value poly = b.create<arith::AddFOp>(
                        loc, x, b.create<arith::MulFOp>(loc, floatConst(b, loc, t, 0.044715), x3));
                    inner = b.create<math::TanhOp>(
                        loc, b.create<arith::MulFOp>(loc, floatConst(b, loc, t, 0.7978845608028654),
                                                     poly));
                  } else {
                    inner = b.create<math::ErfOp>(
                        loc,
                        b.create<arith::MulFOp>(loc, x, floatConst(b, loc, t, 0.7071067811865476)));
                  }
                  Value onePlus = b.create<arith::AddFOp>(loc, floatConst(b, loc, t, 1.0), inner);
                  return b.create<arith::MulFOp>(
                      loc, b.create<arith::MulFOp>(loc, floatConst(b, loc, t, 0.5), x), onePlus);
                }));
    return success();
  }
};

/// grad * gelu'(x); for the erf form gelu'(x) = Phi(x) + x phi(x).
struct GeluGradPattern : GraphPattern<gr::GeluGradOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::GeluGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    bool tanhForm = op.getApproximate() == "tanh";
    Value r = elementwise(
        rw, op.getLoc(), tensorType(op.getResult()), {a.getX(), a.getGrad()},
        [&](OpBuilder &b, Location l, ArrayRef<Value> v) -> Value {
          Type t = v[0].getType();
          Value x = v[0];
          auto c = [&](double d) { return floatConst(b, l, t, d); };
          auto mul = [&](Value p, Value q) { return b.create<arith::MulFOp>(l, p, q).getResult(); };
          auto add = [&](Value p, Value q) { return b.create<arith::AddFOp>(l, p, q).getResult(); };
          Value d;
          if (tanhForm) {
            // 0.5 (1 + th) + 0.5 x (1 - th^2) k (1 + 3 * 0.044715 x^2)
            Value x2 = mul(x, x);
            Value k = c(0.7978845608028654);
            Value th = b.create<math::TanhOp>(l, mul(k, add(x, mul(c(0.044715), mul(x2, x)))));
            Value sech2 = b.create<arith::SubFOp>(l, c(1.0), mul(th, th));
            Value inner = mul(k, add(c(1.0), mul(c(3 * 0.044715), x2)));
            d = add(mul(c(0.5), add(c(1.0), th)), mul(mul(c(0.5), x), mul(sech2, inner)));
          } else {
            Value cdf =
                mul(c(0.5), add(c(1.0), b.create<math::ErfOp>(l, mul(x, c(0.7071067811865476)))));
            Value pdf =
                mul(c(0.3989422804014327), b.create<math::ExpOp>(l, mul(c(-0.5), mul(x, x))));
            d = add(cdf, mul(x, pdf));
          }
          return mul(v[1], d);
        });
    rw.replaceOp(op, r);
    return success();
  }
};

/// Rounds to nearest even (narrower result) or widens exactly.
struct ConvertPattern : GraphPattern<gr::ConvertOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::ConvertOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    RankedTensorType to = tensorType(op.getResult());
    auto toElement = cast<FloatType>(to.getElementType());
    rw.replaceOp(op, elementwise(rw, op.getLoc(), to, a.getX(),
                                 [&](OpBuilder &b, Location loc, ArrayRef<Value> v) -> Value {
                                   auto from = cast<FloatType>(v[0].getType());
                                   if (from == toElement)
                                     return v[0];
                                   if (from.getWidth() > toElement.getWidth())
                                     return b.create<arith::TruncFOp>(loc, toElement, v[0]);
                                   return b.create<arith::ExtFOp>(loc, toElement, v[0]);
                                 }));
    return success();
  }
};

/// Inference (no key): the identity. Training: the mask of graph.dropout's
/// description from a Philox draw per element.
struct DropoutPattern : GraphPattern<gr::DropoutOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::DropoutOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    if (a.getKey().empty()) {
      rw.replaceOp(op, a.getX());
      return success();
    }
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    int64_t rank = type.getRank();
    double rate = op.getRate().convertToDouble();
    auto site = static_cast<uint32_t>(op.getSite());
    AffineMap id = rw.getMultiDimIdentityMap(rank), scalar = scalarMap(rw.getContext(), rank);
    Value r = parallelGeneric(
        rw, loc, type, {a.getX(), a.getKey()[0], a.getKey()[1], a.getKey()[2]},
        {id, scalar, scalar, scalar}, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          // The row-major position of the element.
          Value flat = rank ? b.create<linalg::IndexOp>(l, 0).getResult()
                            : b.create<arith::ConstantIndexOp>(l, 0).getResult();
          for (int64_t d = 1; d < rank; ++d)
            flat = b.create<arith::AddIOp>(
                l,
                b.create<arith::MulIOp>(l, flat,
                                        b.create<arith::ConstantIndexOp>(l, type.getDimSize(d))),
                b.create<linalg::IndexOp>(l, d));
          return dropElement(b, l, v[0], flat, v.drop_front(), rate, site);
        });
    rw.replaceOp(op, r);
    return success();
  }
};

struct SelectPattern : GraphPattern<gr::SelectOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::SelectOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, copySlice(rw, op.getLoc(), a.getX(), op.getAxis(), op.getIndex(), 1,
                               tensorType(op.getResult())));
    return success();
  }
};

struct BroadcastPattern : GraphPattern<gr::BroadcastOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::BroadcastOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, elementwise(rw, op.getLoc(), tensorType(op.getResult()), a.getX(),
                                 [](OpBuilder &, Location, ArrayRef<Value> v) { return v[0]; }));
    return success();
  }
};

} // namespace

void populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<BinaryPattern<gr::AddOp, arith::AddFOp>, BinaryPattern<gr::SubOp, arith::SubFOp>,
               BinaryPattern<gr::MulOp, arith::MulFOp>, BinaryPattern<gr::DivOp, arith::DivFOp>,
               ScalePattern, TanhPattern, GeluPattern, GeluGradPattern, DropoutPattern,
               SelectPattern, BroadcastPattern, ConvertPattern>(patterns.getContext());
}

} // namespace bertc::lowering
