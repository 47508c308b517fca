//===- ConvertGraphToLinalg.cpp - Graph ops to linalg on tensors ----------===//
//
// One pattern per graph op. Elementwise ops become linalg.generic with
// numpy broadcasting in their indexing maps; reductions (softmax, layer
// norm, cross-entropy, sum, mean) become a few generics each; matmuls become
// linalg.matmul / batch_matmul after collapsing shared batch axes (a
// transposed first operand read in place by their *_transpose_a forms, a
// transposed second one made explicit by linalg.transpose); reshapes become
// collapse/expand views. An attention becomes one scf.forall of workgroups,
// each walking the keys in blocks (online softmax); a cross-entropy with
// its gradient one scf.forall over blocks of rows.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <array>
#include <functional>
#include <limits>
#include <numeric>

namespace bertc {
#define GEN_PASS_DEF_CONVERTGRAPHTOLINALG
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
}

Value floatConst(OpBuilder &b, Location loc, Type type, double v) {
  return b.create<arith::ConstantOp>(loc, type, b.getFloatAttr(type, v));
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, double v) {
  Value init = emptyTensor(b, loc, type);
  return b.create<linalg::FillOp>(loc, floatConst(b, loc, type.getElementType(), v), init)
      .getResult(0);
}

/// A linalg.generic over `resultType` (all loops parallel) reading `inputs`
/// through `maps`; `body` maps the input scalars to the result scalar.
Value parallelGeneric(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
                      ArrayRef<AffineMap> maps, BodyFn body) {
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(), utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, resultType, inputs, emptyTensor(b, loc, resultType), allMaps, iterators,
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args.drop_back()));
          })
      .getResult(0);
}

/// `v`, read broadcast (numpy rules) over a result of shape `result`,
/// without its broadcast unit axes, and the map that reads it: a projected permutation, which keeps
/// the reader foldable through reshapes (a row statistic [.., M, 1] read
/// over [.., M, N] becomes [.., M] read at (.., m)).
std::pair<Value, AffineMap> withoutBroadcastAxes(OpBuilder &b, Location loc, Value v,
                                                 ArrayRef<int64_t> result) {
  RankedTensorType type = tensorType(v);
  ArrayRef<int64_t> shape = type.getShape();
  int64_t offset = static_cast<int64_t>(result.size() - shape.size());
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> exprs;
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    pending.push_back(i);
    if (shape[i] == 1 && result[offset + i] != 1)
      continue;
    kept.push_back(shape[i]);
    exprs.push_back(b.getAffineDimExpr(offset + i));
    groups.push_back(pending);
    pending.clear();
  }
  MLIRContext *ctx = b.getContext();
  AffineMap map = AffineMap::get(result.size(), 0, exprs, ctx);
  if (kept.size() == shape.size())
    return {v, map};
  // Trailing broadcast axes join the last kept group.
  if (!groups.empty())
    groups.back().append(pending.begin(), pending.end());
  auto to = RankedTensorType::get(kept, type.getElementType());
  return {b.create<tensor::CollapseShapeOp>(loc, to, v, groups), map};
}

/// Elementwise op with broadcasting. Operands produced by graph.constant are
/// folded into the body as scalars.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange operands,
                  function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> fn) {
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  SmallVector<std::optional<double>> scalars;
  for (Value v : operands) {
    if (auto c = v.getDefiningOp<gr::ConstantOp>()) {
      scalars.push_back(c.getValue().convertToDouble());
      continue;
    }
    scalars.push_back(std::nullopt);
    auto [input, map] = withoutBroadcastAxes(b, loc, v, resultType.getShape());
    inputs.push_back(input);
    maps.push_back(map);
  }
  Type element = resultType.getElementType();
  return parallelGeneric(b, loc, resultType, inputs, maps,
                         [&](OpBuilder &nb, Location nloc, ValueRange args) {
                           SmallVector<Value> values;
                           size_t next = 0;
                           for (const auto &s : scalars)
                             values.push_back(s ? floatConst(nb, nloc, element, *s) : args[next++]);
                           return fn(nb, nloc, values);
                         });
}

/// Reduces `input` over the sorted `axes` (dropped from the result), starting
/// from `identity`. `rows` are tensors already reduced over `axes` (such as a
/// row maximum) read beside each element; `combine(element, rowValues,
/// accumulator)` gives the new accumulator.
Value reduce(OpBuilder &b, Location loc, Value input, ValueRange rows, ArrayRef<int64_t> axes,
             double identity,
             function_ref<Value(OpBuilder &, Location, Value, ValueRange, Value)> combine) {
  RankedTensorType type = tensorType(input);
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iterators.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (!reduced) {
      kept.push_back(type.getDimSize(i));
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  auto resultType = RankedTensorType::get(kept, type.getElementType());
  AffineMap outMap = AffineMap::get(type.getRank(), 0, outExprs, b.getContext());
  SmallVector<Value> inputs = {input};
  inputs.append(rows.begin(), rows.end());
  SmallVector<AffineMap> maps(inputs.size(), outMap);
  maps.front() = b.getMultiDimIdentityMap(type.getRank());
  maps.push_back(outMap);
  size_t numRows = rows.size();
  return b
      .create<linalg::GenericOp>(
          loc, resultType, inputs, filled(b, loc, resultType, identity), maps, iterators,
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            nb.create<linalg::YieldOp>(
                nloc, combine(nb, nloc, args[0], args.slice(1, numRows), args.back()));
          })
      .getResult(0);
}

Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes, double identity,
             function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  return reduce(b, loc, input, {}, axes, identity,
                [&](OpBuilder &nb, Location l, Value x, ValueRange, Value acc) {
                  return combine(nb, l, x, acc);
                });
}

/// The map reading a tensor reduced over `axes` from the full iteration space.
AffineMap droppedAxesMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(axes, i))
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value maxf(OpBuilder &b, Location loc, Value x, Value acc) {
  return b.create<arith::MaximumFOp>(loc, x, acc);
}
Value addf(OpBuilder &b, Location loc, Value x, Value acc) {
  return b.create<arith::AddFOp>(loc, x, acc);
}

/// Collapses `v` to rank 1 then expands to `shape`: a view, never a copy.
Value reshapeView(OpBuilder &b, Location loc, Value v, RankedTensorType to) {
  RankedTensorType from = tensorType(v);
  if (from == to)
    return v;
  // A scalar becomes a tensor of ones dims with no reassociation at all.
  if (from.getRank() == 0)
    return b.create<tensor::ExpandShapeOp>(loc, to, v, ArrayRef<ReassociationIndices>{});
  Value flat = v;
  if (from.getRank() != 1) {
    ReassociationIndices all(from.getRank());
    std::iota(all.begin(), all.end(), 0);
    flat = b.create<tensor::CollapseShapeOp>(loc, v, ArrayRef<ReassociationIndices>{all});
  }
  if (to.getRank() == 1)
    return flat;
  ReassociationIndices all(to.getRank());
  std::iota(all.begin(), all.end(), 0);
  if (to.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, to, flat, ArrayRef<ReassociationIndices>{});
  return b.create<tensor::ExpandShapeOp>(loc, to, flat, ArrayRef<ReassociationIndices>{all});
}

Value transposeLast2(OpBuilder &b, Location loc, Value v) {
  RankedTensorType type = tensorType(v);
  SmallVector<int64_t> perm(type.getRank());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init = emptyTensor(b, loc, RankedTensorType::get(shape, type.getElementType()));
  return b.create<linalg::TransposeOp>(loc, v, init, perm).getResult()[0];
}

/// An index read from an i32 tensor element, clamped to [0, bound).
Value clampedIndex(OpBuilder &b, Location loc, Value i32, int64_t bound) {
  Value idx = b.create<arith::IndexCastOp>(loc, b.getIndexType(), i32);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value max = b.create<arith::ConstantIndexOp>(loc, bound - 1);
  return b.create<arith::MinSIOp>(loc, b.create<arith::MaxSIOp>(loc, idx, zero), max);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

template <typename OpTy> struct GraphPattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Adaptor = typename OpTy::Adaptor;
};

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

/// A scalar (rank-0) operand read at every point of a rank-`rank` loop nest.
AffineMap scalarMap(MLIRContext *ctx, int64_t rank) { return AffineMap::get(rank, 0, {}, ctx); }

Value i32Const(OpBuilder &b, Location loc, uint32_t v) {
  return b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(static_cast<int32_t>(v)));
}

/// Philox4x32-10 (Salmon et al., SC'11): the first output word for
/// `counter` under `key`, on i32 values.
Value philox4x32(OpBuilder &b, Location loc, std::array<Value, 4> c, std::array<Value, 2> k) {
  Type i64 = b.getI64Type(), i32 = b.getI32Type();
  Value shift = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(32));
  auto mulhilo = [&](uint32_t m, Value x) -> std::pair<Value, Value> {
    Value wide = b.create<arith::MulIOp>(
        loc, b.create<arith::ExtUIOp>(loc, i64, x),
        b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(static_cast<int64_t>(m))));
    return {b.create<arith::TruncIOp>(loc, i32, b.create<arith::ShRUIOp>(loc, wide, shift)),
            b.create<arith::TruncIOp>(loc, i32, wide)};
  };
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] = b.create<arith::AddIOp>(loc, k[0], i32Const(b, loc, 0x9E3779B9u));
      k[1] = b.create<arith::AddIOp>(loc, k[1], i32Const(b, loc, 0xBB67AE85u));
    }
    auto [hi0, lo0] = mulhilo(0xD2511F53u, c[0]);
    auto [hi1, lo1] = mulhilo(0xCD9E8D57u, c[2]);
    c = {b.create<arith::XOrIOp>(loc, b.create<arith::XOrIOp>(loc, hi1, c[1]), k[0]), lo1,
         b.create<arith::XOrIOp>(loc, b.create<arith::XOrIOp>(loc, hi0, c[3]), k[1]), lo0};
  }
  return c[0];
}

/// graph.dropout's mask applied to `x`, the element at row-major position
/// `flat` (an index) of its tensor, under the key (seed, step, scale).
Value dropElement(OpBuilder &b, Location l, Value x, Value flat, ValueRange key, double rate,
                  uint32_t site) {
  Type t = x.getType(), i64 = b.getI64Type(), i32 = b.getI32Type();
  Value pos = b.create<arith::IndexCastUIOp>(l, i64, flat);
  Value lo = b.create<arith::TruncIOp>(l, i32, pos);
  Value hi = b.create<arith::TruncIOp>(
      l, i32,
      b.create<arith::ShRUIOp>(l, pos, b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(32))));
  Value word =
      philox4x32(b, l, {lo, hi, key[1], i32Const(b, l, 0)}, {key[0], i32Const(b, l, site)});
  Value bits = b.create<arith::ShRUIOp>(l, word, i32Const(b, l, 8));
  Value u = b.create<arith::MulFOp>(l, b.create<arith::UIToFPOp>(l, t, bits),
                                    floatConst(b, l, t, 1.0 / (1 << 24)));
  Value scale = key[2];
  if (scale.getType() != t)
    scale = b.create<arith::ExtFOp>(l, t, scale);
  Value p = b.create<arith::MulFOp>(l, floatConst(b, l, t, rate), scale);
  Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u, p);
  Value kept =
      b.create<arith::DivFOp>(l, x, b.create<arith::SubFOp>(l, floatConst(b, l, t, 1.0), p));
  return b.create<arith::SelectOp>(l, keep, kept, floatConst(b, l, t, 0.0));
}

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

/// A linalg.generic that overwrites `carried` (all loops parallel): `body`
/// gets the inputs' scalars and then the carried one.
Value updateInPlace(OpBuilder &b, Location loc, Value carried, ValueRange inputs,
                    ArrayRef<AffineMap> maps, BodyFn body) {
  RankedTensorType type = tensorType(carried);
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(), utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(loc, type, inputs, carried, allMaps, iterators,
                                 [&](OpBuilder &nb, Location nloc, ValueRange args) {
                                   nb.create<linalg::YieldOp>(nloc, body(nb, nloc, args));
                                 })
      .getResult(0);
}

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
/// `maxRows` query rows per workgroup and `maxKeys` keys per step (the
/// largest divisors of the sizes up to these).
void lowerAttention(RewriterBase &rw, gr::AttentionOp op, int64_t maxRows, int64_t maxKeys) {
  gr::AttentionOp::Adaptor a(op->getOperands(), op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rw.getContext();
  RankedTensorType qt = tensorType(a.getQ()), rt = tensorType(op.getResult());
  ArrayRef<int64_t> biasShape = tensorType(a.getBias()).getShape();
  Type elem = rt.getElementType();
  int64_t rank = qt.getRank(), m = qt.getDimSize(rank - 2), d = qt.getDimSize(rank - 1);
  int64_t n = tensorType(a.getK()).getDimSize(rank - 2), e = rt.getDimSize(rank - 1);
  ArrayRef<int64_t> lead = qt.getShape().drop_back(2);
  int64_t batches = std::accumulate(lead.begin(), lead.end(), int64_t{1}, std::multiplies<>());
  int64_t qb = blockOf(m, maxRows), kb = blockOf(n, maxKeys);
  double scale = op.getScale().convertToDouble(), rate = op.getRate().convertToDouble();
  auto site = static_cast<uint32_t>(op.getSite());
  bool dropout = !a.getKey().empty() && rate > 0;

  auto index = [&](int64_t v) -> OpFoldResult { return rw.getIndexAttr(v); };
  auto forall = rw.create<scf::ForallOp>(loc, ArrayRef<OpFoldResult>{index(0), index(0)},
                                         ArrayRef<OpFoldResult>{index(batches), index(m)},
                                         ArrayRef<OpFoldResult>{index(1), index(qb)},
                                         ValueRange{emptyTensor(rw, loc, rt)}, std::nullopt);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(forall.getBody());
  Value batch = forall.getInductionVars()[0], q0 = forall.getInductionVars()[1];
  // The batch's index along each leading axis.
  SmallVector<Value> leadIndex(lead.size());
  Value rest = batch;
  for (int64_t i = static_cast<int64_t>(lead.size()) - 1; i >= 0; --i) {
    Value size = rw.create<arith::ConstantIndexOp>(loc, lead[i]);
    leadIndex[i] = i ? rw.create<arith::RemUIOp>(loc, rest, size).getResult() : rest;
    if (i)
      rest = rw.create<arith::DivUIOp>(loc, rest, size);
  }
  // The [rows, cols] tile of a [..., R, C] operand at this batch.
  auto tileOffsets = [&](OpFoldResult row) {
    SmallVector<OpFoldResult> offsets(leadIndex.begin(), leadIndex.end());
    offsets.append({row, index(0)});
    return offsets;
  };
  auto tileSizes = [&](int64_t rows, int64_t cols) {
    SmallVector<OpFoldResult> sizes(lead.size(), index(1));
    sizes.append({index(rows), index(cols)});
    return sizes;
  };
  SmallVector<OpFoldResult> unitStrides(rank, index(1));
  auto tile = [&](Value source, OpFoldResult row, int64_t rows, int64_t cols) -> Value {
    return rw.create<tensor::ExtractSliceOp>(loc, RankedTensorType::get({rows, cols}, elem), source,
                                             tileOffsets(row), tileSizes(rows, cols), unitStrides);
  };
  auto rowsType = RankedTensorType::get({qb}, elem);
  auto scoresType = RankedTensorType::get({qb, kb}, elem);
  auto outType = RankedTensorType::get({qb, e}, elem);
  AffineMap id1 = rw.getMultiDimIdentityMap(1), id2 = rw.getMultiDimIdentityMap(2);
  AffineMap rows = AffineMap::get(2, 0, rw.getAffineDimExpr(0));
  Value qTile = tile(a.getQ(), q0, qb, d);

  auto loop = rw.create<scf::ForOp>(
      loc, rw.create<arith::ConstantIndexOp>(loc, 0), rw.create<arith::ConstantIndexOp>(loc, n),
      rw.create<arith::ConstantIndexOp>(loc, kb),
      ValueRange{filled(rw, loc, rowsType, -INFINITY), filled(rw, loc, rowsType, 0.0),
                 filled(rw, loc, outType, 0.0)},
      [&](OpBuilder &b, Location l, Value k0, ValueRange carried) {
        Value maxBefore = carried[0], sumBefore = carried[1], acc = carried[2];
        // This block's scores q k^T (k's tile transposed to [d, kb]).
        Value kTile = tile(a.getK(), k0, kb, d);
        Value kT = b.create<linalg::TransposeOp>(
                        l, kTile, emptyTensor(b, l, RankedTensorType::get({d, kb}, elem)),
                        ArrayRef<int64_t>{1, 0})
                       .getResult()[0];
        Value scores =
            b.create<linalg::MatmulOp>(l, ValueRange{qTile, kT}, filled(b, l, scoresType, 0.0))
                .getResult(0);
        // The bias of this block, read with its broadcast axes held at 0.
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
        Value biasTile =
            b.create<tensor::ExtractSliceOp>(l, RankedTensorType::get(biasTileShape, elem),
                                             a.getBias(), biasOffsets, biasSizes, biasStrides);
        AffineMap biasMap = AffineMap::get(2, 0, biasExprs, ctx);
        auto logit = [&](OpBuilder &nb, Location nl, Value score, Value bias) -> Value {
          return nb.create<arith::AddFOp>(
              nl, nb.create<arith::MulFOp>(nl, score, floatConst(nb, nl, elem, scale)), bias);
        };
        Value blockMax =
            b.create<linalg::GenericOp>(
                 l, rowsType, ValueRange{scores, biasTile}, filled(b, l, rowsType, -INFINITY),
                 ArrayRef<AffineMap>{id2, biasMap, rows},
                 ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                               utils::IteratorType::reduction},
                 [&](OpBuilder &nb, Location nl, ValueRange v) {
                   nb.create<linalg::YieldOp>(nl, maxf(nb, nl, logit(nb, nl, v[0], v[1]), v[2]));
                 })
                .getResult(0);
        // The new running maximum and exp(old - new), which rescales what
        // the earlier blocks summed. The carried tensors are updated in
        // place (a loop yields the buffers it was given).
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
        Value probs = parallelGeneric(
            b, l, scoresType, {scores, biasTile, newMax}, {id2, biasMap, rows},
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
        // Dropout of the (still unnormalised) probabilities, element by
        // element as graph.dropout would on the whole [..., M, N] tensor.
        if (dropout) {
          AffineMap scalar = scalarMap(ctx, 2);
          SmallVector<Value> inputs = {probs};
          llvm::append_range(inputs, a.getKey());
          probs = parallelGeneric(
              b, l, scoresType, inputs, {id2, scalar, scalar, scalar},
              [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                auto mul = [&](Value x, int64_t c) {
                  return nb.create<arith::MulIOp>(nl, x, nb.create<arith::ConstantIndexOp>(nl, c));
                };
                Value row =
                    nb.create<arith::AddIOp>(nl, nb.create<arith::AddIOp>(nl, mul(batch, m), q0),
                                             nb.create<linalg::IndexOp>(nl, 0));
                Value flat =
                    nb.create<arith::AddIOp>(nl, nb.create<arith::AddIOp>(nl, mul(row, n), k0),
                                             nb.create<linalg::IndexOp>(nl, 1));
                return dropElement(nb, nl, v[0], flat, v.drop_front(), rate, site);
              });
        }
        Value rescaled = updateInPlace(b, l, acc, {factor}, {rows},
                                       [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                                         return nb.create<arith::MulFOp>(nl, v[1], v[0]);
                                       });
        Value newAcc =
            b.create<linalg::MatmulOp>(l, ValueRange{probs, tile(a.getV(), k0, kb, e)}, rescaled)
                .getResult(0);
        b.create<scf::YieldOp>(l, ValueRange{newMax, newSum, newAcc});
      });
  // The normalised rows, written straight into this workgroup's tile of
  // the result.
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

/// One reduction with two results: the running maximum (from -inf) and its
/// index (from 0), replaced only by a strictly larger element, so the first
/// maximum wins.
struct ArgmaxPattern : GraphPattern<gr::ArgmaxOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::ArgmaxOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(a.getX());
    RankedTensorType indexType = tensorType(op.getResult());
    int64_t rank = type.getRank(), axis = op.getAxis();
    auto valueType = RankedTensorType::get(indexType.getShape(), type.getElementType());
    Value maxInit = filled(rw, loc, valueType, -std::numeric_limits<double>::infinity());
    Value zero = rw.create<arith::ConstantOp>(loc, rw.getI32IntegerAttr(0));
    Value indexInit =
        rw.create<linalg::FillOp>(loc, zero, emptyTensor(rw, loc, indexType)).getResult(0);
    AffineMap out = droppedAxesMap(rw.getContext(), rank, {axis});
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    auto generic = rw.create<linalg::GenericOp>(
        loc, TypeRange{valueType, indexType}, ValueRange{a.getX()}, ValueRange{maxInit, indexInit},
        ArrayRef<AffineMap>{rw.getMultiDimIdentityMap(rank), out, out}, iterators,
        [&](OpBuilder &b, Location l, ValueRange v) {
          Value index =
              b.create<arith::IndexCastOp>(l, b.getI32Type(), b.create<linalg::IndexOp>(l, axis));
          Value larger = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v[0], v[1]);
          b.create<linalg::YieldOp>(l,
                                    ValueRange{b.create<arith::SelectOp>(l, larger, v[0], v[1]),
                                               b.create<arith::SelectOp>(l, larger, index, v[2])});
        });
    rw.replaceOp(op, generic.getResult(1));
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

/// Copies a slice (rank-reducing for select) into a fresh tensor.
Value copySlice(OpBuilder &b, Location loc, Value x, int64_t axis, int64_t start, int64_t size,
                RankedTensorType resultType) {
  RankedTensorType type = tensorType(x);
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t i = 0; i < type.getRank(); ++i)
    sizes.push_back(b.getIndexAttr(i == axis ? size : type.getDimSize(i)));
  offsets[axis] = b.getIndexAttr(start);
  Value slice = b.create<tensor::ExtractSliceOp>(loc, resultType, x, offsets, sizes, strides);
  // linalg.copy, not an identity generic: canonicalization would fold that away.
  return b.create<linalg::CopyOp>(loc, slice, emptyTensor(b, loc, resultType)).getResult(0);
}

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

struct SelectPattern : GraphPattern<gr::SelectOp> {
  using GraphPattern::GraphPattern;
  LogicalResult matchAndRewrite(gr::SelectOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    rw.replaceOp(op, copySlice(rw, op.getLoc(), a.getX(), op.getAxis(), op.getIndex(), 1,
                               tensorType(op.getResult())));
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

/// mean over labelled rows of logsumexp(row) - row[label].
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
    Value mean = meanOverLabelled(rw, loc, totals.getResult(0), totals.getResult(1));
    rw.replaceOp(op, mean);
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

/// Adds each gradient row into the row of its id, one position after another
/// (an scf.for over positions: ids may repeat, so rows are not independent).
/// Columns are independent: an scf.forall over blocks of columns gives the
/// table's zeroing and the additions to several workgroups.
struct EmbeddingGradPattern : GraphPattern<gr::EmbeddingGradOp> {
  using GraphPattern::GraphPattern;
  /// Column blocks of the gradient table.
  static constexpr int64_t kColumnBlocks = 8;

  LogicalResult matchAndRewrite(gr::EmbeddingGradOp op, Adaptor a,
                                ConversionPatternRewriter &rw) const override {
    Location loc = op.getLoc();
    RankedTensorType rt = tensorType(op.getResult());
    RankedTensorType gt = tensorType(a.getGrad());
    int64_t rows = rt.getDimSize(0), h = rt.getDimSize(1);
    int64_t positions = gt.getNumElements() / h;
    int64_t block = h;
    for (int64_t parts = kColumnBlocks; parts > 1; --parts)
      if (h % parts == 0) {
        block = h / parts;
        break;
      }
    Type element = rt.getElementType();
    Value ids =
        reshapeView(rw, loc, a.getIds(),
                    RankedTensorType::get({positions}, tensorType(a.getIds()).getElementType()));
    Value g = reshapeView(rw, loc, a.getGrad(), RankedTensorType::get({positions, h}, element));
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
        loc, loop.getResult(0), forall.getRegionIterArgs()[0],
        ArrayRef<OpFoldResult>{zeroIndex, c0},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(rows), rw.getIndexAttr(block)},
        ArrayRef<OpFoldResult>{oneIndex, oneIndex});
    rw.replaceOp(op, forall.getResult(0));
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
    Value count = countLabelled(rw, loc, labels, ignore, classes, type.getElementType());
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

/// Rows of logits per workgroup of cross_entropy_with_grad: a few, so that
/// the second read of each row hits the cache.
constexpr int64_t kCrossEntropyRowBlock = 4;

/// cross_entropy_with_grad: a count of the labelled rows, then one
/// scf.forall over blocks of rows that computes each row's maximum, sum of
/// exponentials, loss and gradient while the rows are in cache, then the
/// mean of the row losses.
void lowerCrossEntropyWithGrad(RewriterBase &rw, gr::CrossEntropyWithGradOp op) {
  Location loc = op.getLoc();
  RankedTensorType type = tensorType(op.getLogits());
  Type t = type.getElementType();
  int64_t classes = type.getShape().back(), rows = type.getNumElements() / classes;
  int64_t ignore = op.getIgnoreIndex();
  MLIRContext *ctx = rw.getContext();
  Value logits = reshapeView(rw, loc, op.getLogits(), RankedTensorType::get({rows, classes}, t));
  Value labels =
      reshapeView(rw, loc, op.getLabels(),
                  RankedTensorType::get({rows}, tensorType(op.getLabels()).getElementType()));
  Value count = countLabelled(rw, loc, labels, ignore, classes, t);
  int64_t rb = kCrossEntropyRowBlock;
  while (rows % rb)
    --rb;
  auto lossesType = RankedTensorType::get({rows}, t);
  auto forall = rw.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(rows)}, ArrayRef<OpFoldResult>{rw.getIndexAttr(rb)},
      ValueRange{emptyTensor(rw, loc, lossesType), emptyTensor(rw, loc, tensorType(logits))},
      std::nullopt);
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
  rw.setInsertionPointAfter(forall);
  // The mean over labelled rows (0 when there are none).
  Value total = reduce(rw, loc, forall.getResult(0), {0}, 0.0, addf);
  Value mean = meanOverLabelled(rw, loc, total, count);
  rw.replaceOp(op, {mean, reshapeView(rw, loc, forall.getResult(1), type)});
}

struct ConvertGraphToLinalgPass : bertc::impl::ConvertGraphToLinalgBase<ConvertGraphToLinalgPass> {
  using ConvertGraphToLinalgBase::ConvertGraphToLinalgBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<BinaryPattern<gr::AddOp, arith::AddFOp>, BinaryPattern<gr::SubOp, arith::SubFOp>,
                 BinaryPattern<gr::MulOp, arith::MulFOp>, BinaryPattern<gr::DivOp, arith::DivFOp>,
                 ScalePattern, TanhPattern, GeluPattern, DropoutPattern, SoftmaxPattern,
                 LayerNormPattern, MatmulPattern, EmbeddingPattern, GatherPattern, ReshapePattern,
                 TransposePattern, SlicePattern, SelectPattern, ReducePattern<gr::SumOp, false>,
                 ReducePattern<gr::MeanOp, true>, CrossEntropyPattern, BroadcastPattern,
                 GeluGradPattern, LayerNormGradPattern, CrossEntropyGradPattern, SliceGradPattern,
                 GatherGradPattern, EmbeddingGradPattern, AdamWPattern, ArgmaxPattern>(ctx);
    // Ops lowered to their own scf.forall of workgroups first, with a plain
    // rewriter: the nested loops are built whole, from operands of the
    // same types.
    IRRewriter rewriter(ctx);
    getOperation().walk([&](Operation *op) {
      rewriter.setInsertionPoint(op);
      if (auto attention = dyn_cast<gr::AttentionOp>(op))
        lowerAttention(rewriter, attention, attentionRows, attentionKeys);
      else if (auto crossEntropy = dyn_cast<gr::CrossEntropyWithGradOp>(op))
        lowerCrossEntropyWithGrad(rewriter, crossEntropy);
    });
    ConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    target.addIllegalDialect<gr::GraphDialect>();
    target.addLegalOp<gr::ParameterOp, gr::InputOp, gr::OutputOp, gr::ConstantOp, gr::StateOp,
                      gr::AssignOp>();
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      return signalPassFailure();
    // Constants were folded into the elementwise ops that used them; those
    // still used (by a reshape, say) become filled tensors.
    getOperation().walk([](gr::ConstantOp c) {
      if (!c->use_empty()) {
        OpBuilder b(c);
        auto type = cast<RankedTensorType>(c.getType());
        c.replaceAllUsesWith(filled(b, c.getLoc(), type, c.getValue().convertToDouble()));
      }
      c->erase();
    });
  }
};

} // namespace
