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
    // Transposed operands are read where they are, by the *_transpose_a and
    // *_transpose_b forms: the back ends' matmul kernels read a column of
    // A's tile at each step of K, contiguous when A is stored transposed,
    // and copy B's tile into the layout they want (the CPU back end's
    // packed panels transpose it on the way). Only the pairs no linalg form
    // reads (both transposed; a transposed A over batches against a shared
    // B) are transposed first.
    bool sharedB = tensorType(b).getRank() == 2;
    bool readATransposed = op.getTransposeA() && (!sharedB || tensorType(a).getRank() == 2);
    if (op.getTransposeA() && !readATransposed)
      a = transposeLast2(rw, loc, a);
    bool readBTransposed = op.getTransposeB() && !readATransposed;
    if (op.getTransposeB() && !readBTransposed)
      b = transposeLast2(rw, loc, b);
    RankedTensorType at = tensorType(a), bt = tensorType(b), rt = tensorType(op.getResult());
    // bf16 operands accumulate into f32: linalg's contractions widen their
    // operands to the result's type.
    Type elem = rt.getElementType(), operandElem = at.getElementType();
    int64_t k = at.getDimSize(at.getRank() - (readATransposed ? 2 : 1));
    int64_t n = bt.getDimSize(bt.getRank() - (readBTransposed ? 2 : 1));
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
      auto flatA = RankedTensorType::get({rows, k}, operandElem);
      auto flatR = RankedTensorType::get({rows, n}, elem);
      SmallVector<Value> operands = {reshapeView(rw, loc, a, flatA), b};
      Value init = filled(rw, loc, flatR, 0.0);
      Value r = readBTransposed
                    ? rw.create<linalg::MatmulTransposeBOp>(loc, operands, init).getResult(0)
                    : rw.create<linalg::MatmulOp>(loc, operands, init).getResult(0);
      rw.replaceOp(op, reshapeView(rw, loc, r, rt));
      return success();
    }
    int64_t batch = at.getNumElements() / (m * k);
    auto a3 = readATransposed ? RankedTensorType::get({batch, k, m}, operandElem)
                              : RankedTensorType::get({batch, m, k}, operandElem);
    auto b3 = readBTransposed ? RankedTensorType::get({batch, n, k}, operandElem)
                              : RankedTensorType::get({batch, k, n}, operandElem);
    auto r3 = RankedTensorType::get({batch, m, n}, elem);
    SmallVector<Value> operands = {reshapeView(rw, loc, a, a3), reshapeView(rw, loc, b, b3)};
    Value init = filled(rw, loc, r3, 0.0);
    Value r = readATransposed
                  ? rw.create<linalg::BatchMatmulTransposeAOp>(loc, operands, init).getResult(0)
              : readBTransposed
                  ? rw.create<linalg::BatchMatmulTransposeBOp>(loc, operands, init).getResult(0)
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
