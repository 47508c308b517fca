//===- Lowering.h - The graph ops' lowering to linalg, by op family --*- C++ -*-===//
//
// bertc-convert-graph-to-linalg gathers one populate function per op family
// (each in its own file beside this one); the builders below are what the
// families share. The lowering makes no target decision: the ops that are
// lowered in their kernels (graph.attention, graph.embedding_grad,
// graph.cross_entropy_rows) get their blocks from each back end's
// strategy, through bertc-lower-kernel-ops.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_LOWERING_LOWERING_H
#define BERTC_PASSES_LOWERING_LOWERING_H

#include "dialects/graph/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <array>
#include <cstdint>

namespace bertc::lowering {

using namespace mlir;
namespace gr = bertc::graph;

//===----------------------------------------------------------------------===//
// Builders
//===----------------------------------------------------------------------===//

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v);

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type);

Value floatConst(OpBuilder &b, Location loc, Type type, double v);

Value filled(OpBuilder &b, Location loc, RankedTensorType type, double v);

/// A linalg.generic over `resultType` (all loops parallel) reading `inputs`
/// through `maps`; `body` maps the input scalars to the result scalar.
Value parallelGeneric(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
                      ArrayRef<AffineMap> maps, BodyFn body);

/// Elementwise op with broadcasting. Operands produced by graph.constant are
/// folded into the body as scalars.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange operands,
                  function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> fn);

/// Reduces `input` over the sorted `axes` (dropped from the result), starting
/// from `identity`. `rows` are tensors already reduced over `axes` (such as a
/// row maximum) read beside each element; `combine(element, rowValues,
/// accumulator)` gives the new accumulator.
Value reduce(OpBuilder &b, Location loc, Value input, ValueRange rows, ArrayRef<int64_t> axes,
             double identity,
             function_ref<Value(OpBuilder &, Location, Value, ValueRange, Value)> combine);

Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes, double identity,
             function_ref<Value(OpBuilder &, Location, Value, Value)> combine);

/// The map reading a tensor reduced over `axes` from the full iteration space.
AffineMap droppedAxesMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> axes);

/// Collapses `v` to rank 1 then expands to `shape`: a view, never a copy.
Value reshapeView(OpBuilder &b, Location loc, Value v, RankedTensorType to);

Value transposeLast2(OpBuilder &b, Location loc, Value v);

/// An index read from an i32 tensor element, clamped to [0, bound).
Value clampedIndex(OpBuilder &b, Location loc, Value i32, int64_t bound);

/// A scalar (rank-0) operand read at every point of a rank-`rank` loop nest.
AffineMap scalarMap(MLIRContext *ctx, int64_t rank);

Value i32Const(OpBuilder &b, Location loc, uint32_t v);

/// Philox4x32-10 (Salmon et al., SC'11): the first output word for
/// `counter` under `key`, on i32 values.
Value philox4x32(OpBuilder &b, Location loc, std::array<Value, 4> c, std::array<Value, 2> k);

/// graph.dropout's mask applied to `x`, the element at row-major position
/// `flat` (an index) of its tensor, under the key (seed, step, scale).
Value dropElement(OpBuilder &b, Location l, Value x, Value flat, ValueRange key, double rate,
                  uint32_t site);

/// A linalg.generic that overwrites `carried` (all loops parallel): `body`
/// gets the inputs' scalars and then the carried one.
Value updateInPlace(OpBuilder &b, Location loc, Value carried, ValueRange inputs,
                    ArrayRef<AffineMap> maps, BodyFn body);

/// Copies a slice (rank-reducing for select) into a fresh tensor.
Value copySlice(OpBuilder &b, Location loc, Value x, int64_t axis, int64_t start, int64_t size,
                RankedTensorType resultType);

/// The combiners of max and sum reductions.
Value maxf(OpBuilder &b, Location loc, Value x, Value acc);
Value addf(OpBuilder &b, Location loc, Value x, Value acc);

/// The pattern every op's lowering derives from.
template <typename OpTy> struct GraphPattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Adaptor = typename OpTy::Adaptor;
};

//===----------------------------------------------------------------------===//
// Op families
//===----------------------------------------------------------------------===//

/// add, sub, mul, div, scale, tanh, gelu and its gradient, dropout, select,
/// broadcast.
void populateElementwisePatterns(RewritePatternSet &patterns);
/// softmax, layer_norm and its gradient, sum, mean, argmax.
void populateReductionPatterns(RewritePatternSet &patterns);
/// matmul in every transposed and batched form.
void populateMatmulPatterns(RewritePatternSet &patterns);
/// embedding, gather, reshape, transpose, slice, and the gradients of
/// gather and slice.
void populateDataMovementPatterns(RewritePatternSet &patterns);
/// cross_entropy, its gradient and the two together.
void populateLossPatterns(RewritePatternSet &patterns);
/// adamw.
void populateOptimizerPatterns(RewritePatternSet &patterns);

/// graph.attention as one scf.forall of workgroups of at most `maxRows`
/// query rows, each walking the keys in blocks of at most `maxKeys` (online
/// softmax); the score matrix never exists whole.
void lowerAttention(RewriterBase &rw, gr::AttentionOp op, int64_t maxRows, int64_t maxKeys);
/// graph.embedding_grad as one scf.forall of (at most) `columnBlocks`
/// workgroups, each a block of the table's columns: zeroed, then each
/// position's gradient row added into the row of its id, in order.
void lowerEmbeddingGrad(RewriterBase &rw, gr::EmbeddingGradOp op, int64_t columnBlocks);
/// graph.cross_entropy_rows as one scf.forall of workgroups of at most
/// `maxRows` rows (the largest such count that divides the rows).
void lowerCrossEntropyRows(RewriterBase &rw, gr::CrossEntropyRowsOp op, int64_t maxRows);

} // namespace bertc::lowering

#endif // BERTC_PASSES_LOWERING_LOWERING_H
