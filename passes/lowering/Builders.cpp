//===- Builders.cpp - The linalg builders the lowering's families share ---===//
#include "passes/lowering/Lowering.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

#include <numeric>

namespace bertc::lowering {

namespace {

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

} // namespace

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

} // namespace bertc::lowering
