//===- Attention.cpp - One kernel of workgroups per attention --------------===//
#include "passes/lowering/Lowering.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <functional>
#include <limits>
#include <numeric>

namespace bertc::lowering {

namespace {

/// The largest divisor of `n` up to `cap`, or `n` itself when that divisor
/// would be a small fraction of `cap` (a prime size: one block).
int64_t blockOf(int64_t n, int64_t cap) {
  for (int64_t b = std::min(n, cap); b >= cap / 4 && b > 1; --b)
    if (n % b == 0)
      return b;
  return n;
}

/// One kernel of online softmax. The workgroups of an scf.forall each take
/// a block of query rows of one (batch, head): a scf.for walks the keys in
/// blocks, each step computing the block's scores, the new running row
/// maximum, the exponentials against it, and rescaling the running sum and
/// output by exp(old max - new max) before adding the block's share. The
/// scores exist one block at a time, in the workgroup's scratch space.
/// Shapes: q [..., M, D], k [..., N, D], v [..., N, E], bias broadcast to
/// [..., M, N], result [..., M, E]; qb query rows per workgroup, kb keys per
/// step.
class AttentionLowering {
public:
  AttentionLowering(RewriterBase &rw, gr::AttentionOp op, int64_t maxRows, int64_t maxKeys)
      : rw(rw), op(op), a(op->getOperands(), op), loc(op.getLoc()), ctx(rw.getContext()) {
    RankedTensorType qt = tensorType(a.getQ()), rt = tensorType(op.getResult());
    biasShape = tensorType(a.getBias()).getShape();
    elem = rt.getElementType();
    rank = qt.getRank();
    m = qt.getDimSize(rank - 2);
    d = qt.getDimSize(rank - 1);
    n = tensorType(a.getK()).getDimSize(rank - 2);
    e = rt.getDimSize(rank - 1);
    lead = qt.getShape().drop_back(2);
    batches = std::accumulate(lead.begin(), lead.end(), int64_t{1}, std::multiplies<>());
    qb = blockOf(m, maxRows);
    kb = blockOf(n, maxKeys);
    rowsType = RankedTensorType::get({qb}, elem);
    scoresType = RankedTensorType::get({qb, kb}, elem);
    outType = RankedTensorType::get({qb, e}, elem);
    id1 = rw.getMultiDimIdentityMap(1);
    id2 = rw.getMultiDimIdentityMap(2);
    rows = AffineMap::get(2, 0, rw.getAffineDimExpr(0));
  }

  void lower();

private:
  OpFoldResult index(int64_t v) { return rw.getIndexAttr(v); }
  /// The offsets and sizes of the [rows, cols] tile of a [..., R, C]
  /// operand at this workgroup's batch.
  SmallVector<OpFoldResult> tileOffsets(OpFoldResult row);
  SmallVector<OpFoldResult> tileSizes(int64_t rows, int64_t cols);
  Value tile(Value source, OpFoldResult row, int64_t rows, int64_t cols);
  /// The bias of the key block at `k0`, read with its broadcast axes held at
  /// 0, and the map that reads it over the [qb, kb] scores.
  std::pair<Value, AffineMap> biasTile(OpBuilder &b, Location l, Value k0);
  /// Dropout of the (still unnormalised) probabilities of the key block at
  /// `k0`, element by element as graph.dropout would on the whole
  /// [..., M, N] tensor.
  Value dropProbabilities(OpBuilder &b, Location l, Value probs, Value k0);
  /// One step of the key loop: the carried running maximum, sum and output
  /// updated with the key block at `k0`.
  void keyBlock(OpBuilder &b, Location l, Value k0, ValueRange carried);

  RewriterBase &rw;
  gr::AttentionOp op;
  gr::AttentionOp::Adaptor a;
  Location loc;
  MLIRContext *ctx;
  ArrayRef<int64_t> biasShape, lead;
  Type elem;
  int64_t rank, m, d, n, e, batches, qb, kb;
  RankedTensorType rowsType, scoresType, outType;
  AffineMap id1, id2, rows;
  /// This workgroup's batch and first query row, its index along each
  /// leading axis, and its tile of q.
  Value batch, q0, qTile;
  SmallVector<Value> leadIndex;
};

SmallVector<OpFoldResult> AttentionLowering::tileOffsets(OpFoldResult row) {
  SmallVector<OpFoldResult> offsets(leadIndex.begin(), leadIndex.end());
  offsets.append({row, index(0)});
  return offsets;
}

SmallVector<OpFoldResult> AttentionLowering::tileSizes(int64_t rows, int64_t cols) {
  SmallVector<OpFoldResult> sizes(lead.size(), index(1));
  sizes.append({index(rows), index(cols)});
  return sizes;
}

Value AttentionLowering::tile(Value source, OpFoldResult row, int64_t rows, int64_t cols) {
  SmallVector<OpFoldResult> unitStrides(rank, index(1));
  return rw.create<tensor::ExtractSliceOp>(loc, RankedTensorType::get({rows, cols}, elem), source,
                                           tileOffsets(row), tileSizes(rows, cols), unitStrides);
}

std::pair<Value, AffineMap> AttentionLowering::biasTile(OpBuilder &b, Location l, Value k0) {
  SmallVector<OpFoldResult> biasOffsets, biasSizes, biasStrides;
  SmallVector<int64_t> biasTileShape;
  SmallVector<AffineExpr> biasExprs;
  int64_t offset = rank - static_cast<int64_t>(biasShape.size());
  for (auto [i, size] : llvm::enumerate(biasShape)) {
    int64_t axis = offset + static_cast<int64_t>(i);
    bool broadcast = size == 1;
    OpFoldResult at = broadcast          ? index(0)
                      : axis < rank - 2  ? OpFoldResult(leadIndex[axis])
                      : axis == rank - 2 ? OpFoldResult(q0)
                                         : OpFoldResult(k0);
    int64_t extent = broadcast || axis < rank - 2 ? 1 : axis == rank - 2 ? qb : kb;
    biasOffsets.push_back(at);
    biasSizes.push_back(index(extent));
    biasStrides.push_back(index(1));
    biasTileShape.push_back(extent);
    biasExprs.push_back(broadcast || axis < rank - 2 ? b.getAffineConstantExpr(0)
                                                     : b.getAffineDimExpr(axis - (rank - 2)));
  }
  Value tile = b.create<tensor::ExtractSliceOp>(l, RankedTensorType::get(biasTileShape, elem),
                                                a.getBias(), biasOffsets, biasSizes, biasStrides);
  return {tile, AffineMap::get(2, 0, biasExprs, ctx)};
}

Value AttentionLowering::dropProbabilities(OpBuilder &b, Location l, Value probs, Value k0) {
  double rate = op.getRate().convertToDouble();
  auto site = static_cast<uint32_t>(op.getSite());
  AffineMap scalar = scalarMap(ctx, 2);
  SmallVector<Value> inputs = {probs};
  llvm::append_range(inputs, a.getKey());
  return parallelGeneric(
      b, l, scoresType, inputs, {id2, scalar, scalar, scalar},
      [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
        auto mul = [&](Value x, int64_t c) {
          return nb.create<arith::MulIOp>(nl, x, nb.create<arith::ConstantIndexOp>(nl, c));
        };
        Value row = nb.create<arith::AddIOp>(nl, nb.create<arith::AddIOp>(nl, mul(batch, m), q0),
                                             nb.create<linalg::IndexOp>(nl, 0));
        Value flat = nb.create<arith::AddIOp>(nl, nb.create<arith::AddIOp>(nl, mul(row, n), k0),
                                              nb.create<linalg::IndexOp>(nl, 1));
        return dropElement(nb, nl, v[0], flat, v.drop_front(), rate, site);
      });
}

void AttentionLowering::keyBlock(OpBuilder &b, Location l, Value k0, ValueRange carried) {
  Value maxBefore = carried[0], sumBefore = carried[1], acc = carried[2];
  double scale = op.getScale().convertToDouble();
  // This block's scores q k^T (k's tile transposed to [d, kb]).
  Value kTile = tile(a.getK(), k0, kb, d);
  Value kT = b.create<linalg::TransposeOp>(l, kTile,
                                           emptyTensor(b, l, RankedTensorType::get({d, kb}, elem)),
                                           ArrayRef<int64_t>{1, 0})
                 .getResult()[0];
  Value scores = b.create<linalg::MatmulOp>(l, ValueRange{qTile, kT}, filled(b, l, scoresType, 0.0))
                     .getResult(0);
  auto [bias, biasMap] = biasTile(b, l, k0);
  auto logit = [&](OpBuilder &nb, Location nl, Value score, Value bias) -> Value {
    return nb.create<arith::AddFOp>(
        nl, nb.create<arith::MulFOp>(nl, score, floatConst(nb, nl, elem, scale)), bias);
  };
  Value blockMax =
      b.create<linalg::GenericOp>(
           l, rowsType, ValueRange{scores, bias}, filled(b, l, rowsType, -INFINITY),
           ArrayRef<AffineMap>{id2, biasMap, rows},
           ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                         utils::IteratorType::reduction},
           [&](OpBuilder &nb, Location nl, ValueRange v) {
             nb.create<linalg::YieldOp>(nl, maxf(nb, nl, logit(nb, nl, v[0], v[1]), v[2]));
           })
          .getResult(0);
  // The new running maximum and exp(old - new), which rescales what the
  // earlier blocks summed. The carried tensors are updated in place (a loop
  // yields the buffers it was given).
  auto update = b.create<linalg::GenericOp>(
      l, TypeRange{rowsType, rowsType}, ValueRange{blockMax},
      ValueRange{maxBefore, emptyTensor(b, l, rowsType)}, SmallVector<AffineMap>(3, id1),
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nl, ValueRange v) {
        Value newMax = maxf(nb, nl, v[1], v[0]);
        Value factor = nb.create<math::ExpOp>(nl, nb.create<arith::SubFOp>(nl, v[1], newMax));
        nb.create<linalg::YieldOp>(nl, ValueRange{newMax, factor});
      });
  Value newMax = update.getResult(0), factor = update.getResult(1);
  Value probs =
      parallelGeneric(b, l, scoresType, {scores, bias, newMax}, {id2, biasMap, rows},
                      [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                        return nb.create<math::ExpOp>(
                            nl, nb.create<arith::SubFOp>(nl, logit(nb, nl, v[0], v[1]), v[2]));
                      });
  Value blockSum = reduce(b, l, probs, {1}, 0.0, addf);
  Value newSum = updateInPlace(b, l, sumBefore, {factor, blockSum}, {id1, id1},
                               [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                                 return nb.create<arith::AddFOp>(
                                     nl, nb.create<arith::MulFOp>(nl, v[2], v[0]), v[1]);
                               });
  if (!a.getKey().empty() && op.getRate().convertToDouble() > 0)
    probs = dropProbabilities(b, l, probs, k0);
  Value rescaled = updateInPlace(b, l, acc, {factor}, {rows},
                                 [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                                   return nb.create<arith::MulFOp>(nl, v[1], v[0]);
                                 });
  Value newAcc =
      b.create<linalg::MatmulOp>(l, ValueRange{probs, tile(a.getV(), k0, kb, e)}, rescaled)
          .getResult(0);
  b.create<scf::YieldOp>(l, ValueRange{newMax, newSum, newAcc});
}

void AttentionLowering::lower() {
  RankedTensorType rt = tensorType(op.getResult());
  auto forall = rw.create<scf::ForallOp>(loc, ArrayRef<OpFoldResult>{index(0), index(0)},
                                         ArrayRef<OpFoldResult>{index(batches), index(m)},
                                         ArrayRef<OpFoldResult>{index(1), index(qb)},
                                         ValueRange{emptyTensor(rw, loc, rt)}, std::nullopt);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(forall.getBody());
  batch = forall.getInductionVars()[0];
  q0 = forall.getInductionVars()[1];
  leadIndex.assign(lead.size(), Value());
  Value rest = batch;
  for (int64_t i = static_cast<int64_t>(lead.size()) - 1; i >= 0; --i) {
    Value size = rw.create<arith::ConstantIndexOp>(loc, lead[i]);
    leadIndex[i] = i ? rw.create<arith::RemUIOp>(loc, rest, size).getResult() : rest;
    if (i)
      rest = rw.create<arith::DivUIOp>(loc, rest, size);
  }
  qTile = tile(a.getQ(), q0, qb, d);
  auto loop = rw.create<scf::ForOp>(
      loc, rw.create<arith::ConstantIndexOp>(loc, 0), rw.create<arith::ConstantIndexOp>(loc, n),
      rw.create<arith::ConstantIndexOp>(loc, kb),
      ValueRange{filled(rw, loc, rowsType, -INFINITY), filled(rw, loc, rowsType, 0.0),
                 filled(rw, loc, outType, 0.0)},
      [&](OpBuilder &b, Location l, Value k0, ValueRange carried) { keyBlock(b, l, k0, carried); });
  // The normalised rows, written straight into this workgroup's tile of
  // the result.
  SmallVector<OpFoldResult> unitStrides(rank, index(1));
  Value outTile = rw.create<tensor::ExtractSliceOp>(loc, outType, forall.getRegionIterArgs()[0],
                                                    tileOffsets(q0), tileSizes(qb, e), unitStrides);
  Value out = updateInPlace(rw, loc, outTile, {loop.getResult(2), loop.getResult(1)}, {id2, rows},
                            [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                              return nb.create<arith::DivFOp>(nl, v[0], v[1]);
                            });
  rw.setInsertionPointToStart(forall.getTerminator().getBody());
  rw.create<tensor::ParallelInsertSliceOp>(loc, out, forall.getRegionIterArgs()[0], tileOffsets(q0),
                                           tileSizes(qb, e), unitStrides);
  rw.replaceOp(op, forall.getResults());
}

} // namespace

void lowerAttention(RewriterBase &rw, gr::AttentionOp op, int64_t maxRows, int64_t maxKeys) {
  AttentionLowering(rw, op, maxRows, maxKeys).lower();
}

} // namespace bertc::lowering
