//===- Matmul.cpp - Matmuls to linalg contractions --------------------------===//
#include "passes/lowering/Lowering.h"

namespace bertc::lowering {

namespace {

struct MatmulPattern : GraphPattern<gr::MatmulOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::MatmulOp op, Adaptor ad,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    Value a = ad.getA(), b = ad.getB();
    // A transposed A is read where it is: at each step of K the kernels read
    // a column of A's tile, contiguous when A is stored transposed. A
    // transposed B would make its rows strided: it is transposed first.
    bool sharedB = tensorType(b).getRank() == 2;
    bool readATransposed = op.getTransposeA() && (!sharedB || tensorType(a).getRank() == 2);
    if (op.getTransposeA() && !readATransposed)
      a = transposeLast2(rw, loc, a);
    if (op.getTransposeB())
      b = transposeLast2(rw, loc, b);
    RankedTensorType at = tensorType(a), bt = tensorType(b), rt = tensorType(op.getResult());
    Type elem = rt.getElementType();
    int64_t k = at.getDimSize(at.getRank() - (readATransposed ? 2 : 1)), n = bt.getShape().back();
    int64_t m = at.getDimSize(at.getRank() - (readATransposed ? 1 : 2));
    if (sharedB) {
      if (readATransposed) {
        auto r2 = RankedTensorType::get({m, n}, elem);
        Value r =
            rw.create<linalg::MatmulTransposeAOp>(loc, ValueRange{a, b}, filled(rw, loc, r2, 0.0))
                .getResult(0);
        rw.replaceOp(op, reshapeView(rw, loc, r, rt));
        return success();
      }
      // A weight shared by every batch: one matmul over all rows.
      int64_t rows = at.getNumElements() / k;
      auto flatA = RankedTensorType::get({rows, k}, elem);
      auto flatR = RankedTensorType::get({rows, n}, elem);
      Value a2 = reshapeView(rw, loc, a, flatA);
      Value r = rw.create<linalg::MatmulOp>(loc, ValueRange{a2, b}, filled(rw, loc, flatR, 0.0))
                    .getResult(0);
      rw.replaceOp(op, reshapeView(rw, loc, r, rt));
      return success();
    }
    int64_t batch = at.getNumElements() / (m * k);
    auto a3 = readATransposed ? RankedTensorType::get({batch, k, m}, elem)
                              : RankedTensorType::get({batch, m, k}, elem);
    auto b3 = RankedTensorType::get({batch, k, n}, elem);
    auto r3 = RankedTensorType::get({batch, m, n}, elem);
    SmallVector<Value> operands = {reshapeView(rw, loc, a, a3), reshapeView(rw, loc, b, b3)};
    Value init = filled(rw, loc, r3, 0.0);
    Value r = readATransposed
                  ? rw.create<linalg::BatchMatmulTransposeAOp>(loc, operands, init).getResult(0)
                  : rw.create<linalg::BatchMatmulOp>(loc, operands, init).getResult(0);
    rw.replaceOp(op, reshapeView(rw, loc, r, rt));
    return success();
  }
};

} // namespace

void populateMatmulPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulPattern>(patterns.getContext());
}

} // namespace bertc::lowering
