//===- Optimizer.cpp - AdamW to one elementwise update ----------------------===//
#include "passes/lowering/Lowering.h"

namespace bertc::lowering {

namespace {

/// Two generics: a rank-0 one for the step's factors (clipping coefficient
/// and the inverse bias corrections; identical across parameters, so CSE
/// keeps one), and an elementwise one with three results.
struct AdamWPattern : GraphPattern<gr::AdamWOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::AdamWOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getParam());
    Type t = type.getElementType();
    auto scalarType = RankedTensorType::get({}, t);
    double beta1 = op.getBeta1().convertToDouble(), beta2 = op.getBeta2().convertToDouble();
    double eps = op.getEps().convertToDouble(), wd = op.getWeightDecay().convertToDouble();
    double maxNorm = op.getMaxNorm().convertToDouble();
    bool biasCorrection = op.getBiasCorrection();
    MLIRContext *ctx = rw.getContext();

    // [coef, 1 / c1, 1 / c2] from (sumsq, step).
    SmallVector<Type> factorTypes(3, scalarType);
    SmallVector<Value> factorInits;
    for (int i = 0; i < 3; ++i)
      factorInits.push_back(emptyTensor(rw, loc, scalarType));
    AffineMap none = scalarMap(ctx, 0);
    auto factors = rw.create<linalg::GenericOp>(
        loc, factorTypes, ValueRange{a.getSumsq(), a.getStep()}, factorInits,
        SmallVector<AffineMap>(5, none), ArrayRef<utils::IteratorType>{},
        [&](OpBuilder &b, Location l, ValueRange v) {
          Value one = floatConst(b, l, t, 1.0);
          Value coef = one;
          if (maxNorm > 0) {
            Value norm = b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, v[0]),
                                                 floatConst(b, l, t, 1e-6));
            coef = b.create<arith::MinimumFOp>(
                l, one, b.create<arith::DivFOp>(l, floatConst(b, l, t, maxNorm), norm));
          }
          Value rc1 = one, rc2 = one;
          if (biasCorrection) {
            Value step = b.create<arith::SIToFPOp>(l, t, v[1]);
            auto inverseCorrection = [&](double beta) -> Value {
              Value power = b.create<math::PowFOp>(l, floatConst(b, l, t, beta), step);
              return b.create<arith::DivFOp>(l, one, b.create<arith::SubFOp>(l, one, power));
            };
            rc1 = inverseCorrection(beta1);
            rc2 = inverseCorrection(beta2);
          }
          b.create<linalg::YieldOp>(l, ValueRange{coef, rc1, rc2});
        });

    int64_t rank = type.getRank();
    AffineMap id = rw.getMultiDimIdentityMap(rank), scalar = scalarMap(ctx, rank);
    SmallVector<Value> inputs = {
        a.getParam(),         a.getGrad(),          a.getM(), a.getV(), factors.getResult(0),
        factors.getResult(1), factors.getResult(2), a.getLr()};
    SmallVector<AffineMap> maps = {id, id, id, id, scalar, scalar, scalar, scalar, id, id, id};
    SmallVector<Value> inits;
    for (int i = 0; i < 3; ++i)
      inits.push_back(emptyTensor(rw, loc, type));
    auto update = rw.create<linalg::GenericOp>(
        loc, TypeRange{type, type, type}, inputs, inits, maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange v) {
          auto c = [&](double x) { return floatConst(b, l, t, x); };
          auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(l, x, y); };
          auto add = [&](Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); };
          Value p = v[0], g = mul(v[1], v[4]);
          Value m = add(mul(c(beta1), v[2]), mul(c(1 - beta1), g));
          Value s = add(mul(c(beta2), v[3]), mul(c(1 - beta2), mul(g, g)));
          Value denom = add(b.create<math::SqrtOp>(l, mul(s, v[6])), c(eps));
          Value u = b.create<arith::DivFOp>(l, mul(m, v[5]), denom);
          if (wd != 0)
            u = add(u, mul(c(wd), p));
          Value next = b.create<arith::SubFOp>(l, p, mul(v[7], u));
          b.create<linalg::YieldOp>(l, ValueRange{next, m, s});
        });
    rw.replaceOp(op, update.getResults());
    return success();
  }
};

} // namespace

void populateOptimizerPatterns(RewritePatternSet &patterns) {
  patterns.add<AdamWPattern>(patterns.getContext());
}

} // namespace bertc::lowering
