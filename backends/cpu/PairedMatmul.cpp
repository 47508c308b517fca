//===- PairedMatmul.cpp - bf16 matmul panels on pairs of K ----------------===//
//
// A panel of a bf16 matmul (bertc-cpu-vectorize has tiled it into one chunk
// of K and one register block of columns) becomes code that consumes K two
// steps at a time, the way AVX512-BF16's vdpbf16ps does: each f32 lane
// accumulates a[k] b[k] + a[k+1] b[k+1] from a 32-bit lane holding the bf16
// pair (k, k+1) of each operand.
//
//  - B's chunk is packed once per panel into pairs: packed[p][2 n + j] =
//    B[2 p + j][n] (a zero row past an odd K), so that each step reads one
//    vector of pairs per register of columns;
//  - A's pair for row m is the 32 bits A[m][2 p .. 2 p + 1], broadcast to
//    every lane; A read transposed (weight gradients) is first packed into
//    those pairs (its rows 2 p and 2 p + 1 interleaved) once per chunk of
//    K, before the loop over the panels, for the full register blocks of
//    its rows (a buffer of the row tile's static bound); the rows past the
//    last block are interleaved in registers;
//  - each register block of rows x columns keeps its accumulators in
//    registers through the whole chunk (iter_args of the K loop), rows past
//    the last full block one at a time.
//
// The dot product of pairs is vdpbf16ps where the strategy says the CPU has
// it (`bf16_dot`), otherwise two FMAs on the pair's halves widened to f32
// (a bf16 is the upper half of an f32): the same products, since a product
// of two bf16 is exact in f32.
//
// With the strategy's `amx` (A read in place, K of at least 32, at most 32
// columns), the blocks of 32 rows first take the chunk's multiple of 32 of
// K as one linalg.generic over A's block (32 x pairs x 2) and B's packed
// pairs (pairs x cols x 2), B's packed layout being AMX's B tile
// (bertc-cpu-lower-amx makes it tdpbf16ps on 2 x cols/16 accumulator
// tiles); the pairs of K after it, and the rows after the last such block,
// go through the register blocks above.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Internal.h"
#include "passes/MatmulOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace bertc::cpu {

namespace {

/// One panel: C[.., M, cols] += A[.., M, K] (or A[.., K, M] read transposed)
/// x B[.., K, cols] (or B[.., cols, K]); batch axes have size 1.
class PairedPanel {
public:
  PairedPanel(RewriterBase &rewriter, linalg::LinalgOp op, const VectorStrategy &s)
      : rw(rewriter), loc(op.getLoc()), s(s) {
    Operation *raw = op.getOperation();
    aTransposed = isa<linalg::MatmulTransposeAOp, linalg::BatchMatmulTransposeAOp>(raw);
    bTransposed = isa<linalg::MatmulTransposeBOp, linalg::BatchMatmulTransposeBOp>(raw);
    a = op.getDpsInputOperand(0)->get();
    b = op.getDpsInputOperand(1)->get();
    c = op.getDpsInitOperand(0)->get();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    batch = static_cast<int64_t>(ranges.size()) - 3;
    cols = ranges[batch + 1];
    k = ranges[batch + 2];
    pairs = (k + 1) / 2;
    lanes = s.vector;
    // Emulated on 16 ymm registers: fewer rows, so that the accumulators,
    // B's halves and A's halves all stay in registers.
    rows = !s.bf16Dot && lanes <= 8 ? std::min<int64_t>(s.registerRows, 4) : s.registerRows;
  }

  /// The panel's new value of C.
  Value emit() {
    Value packed = packB();
    Value m = rw.create<tensor::DimOp>(loc, c, batch).getResult();
    Value step = index(rows);
    Value full = rw.create<arith::SubIOp>(loc, m, rw.create<arith::RemUIOp>(loc, m, step));
    // A read transposed: the rows of the full register blocks packed into
    // pairs once per chunk of K, before the loop over the panels when A
    // (the same slice for every panel) is known there, into a buffer of the
    // rows' static bound.
    FailureOr<int64_t> bound = failure();
    if (aTransposed)
      bound = ValueBoundsConstraintSet::computeConstantBound(
          presburger::BoundType::UB, ValueBoundsConstraintSet::Variable(a, batch + 1),
          /*stopCondition=*/nullptr, /*closedUB=*/true);
    if (succeeded(bound)) {
      OpBuilder::InsertionGuard guard(rw);
      if (Value outside = hoistedA())
        a = outside;
      Value rowsOfA = rw.create<tensor::DimOp>(loc, a, batch + 1);
      Value packedRows =
          rw.create<arith::SubIOp>(loc, rowsOfA, rw.create<arith::RemUIOp>(loc, rowsOfA, step));
      packedA = packA(llvm::alignTo(*bound, rows), packedRows);
    }
    Value result = c, from = index(0);
    if (amxBlocks()) {
      Value tileRows = index(kAmxRows);
      from = rw.create<arith::SubIOp>(loc, m, rw.create<arith::RemUIOp>(loc, m, tileRows));
      result = amxLoop(from, result, packed);
    }
    result = rowLoop(from, full, rows, result, packed, 0);
    return rowLoop(full, m, 1, result, packed, 0);
  }

private:
  /// Rows of an AMX block: two tiles of 16.
  static constexpr int64_t kAmxRows = 32;

  Value index(int64_t v) { return rw.create<arith::ConstantIndexOp>(loc, v); }

  /// Whether this panel's blocks of 32 rows go to AMX (or their loops).
  bool amxBlocks() const {
    return s.amx != 0 && !aTransposed && k >= 32 && cols % 16 == 0 && cols <= 32 &&
           kAmxRows % rows == 0;
  }

  /// Rows [0, to) of C in blocks of 32: pairs [0, kAmx / 2) as one
  /// contraction of A's block with B's packed pairs, the rest of K by the
  /// register blocks.
  Value amxLoop(Value to, Value into, Value packed) {
    int64_t kAmx = k / 32 * 32, amxPairs = kAmx / 2;
    auto loop = rw.create<scf::ForOp>(
        loc, index(0), to, index(kAmxRows), ValueRange{into},
        [&](OpBuilder &bb, Location l, Value row, ValueRange args) {
          OpBuilder::InsertionGuard guard(rw);
          rw.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          Value result = amxBlock(row, kAmx, args[0], packed);
          if (amxPairs < pairs) {
            Value end = rw.create<arith::AddIOp>(l, row, index(kAmxRows));
            result = rowLoop(row, end, rows, result, packed, amxPairs);
          }
          rw.create<scf::YieldOp>(l, result);
        });
    return loop.getResult(0);
  }

  /// C[row .. row + 32, :] += A[row .. row + 32, 0 .. kAmx] x B's first
  /// kAmx / 2 pairs, as a linalg.generic over (m, n, pair, half):
  /// A3[m][pair][half] (A's block), B3[pair][n][half] (the packed pairs,
  /// bf16 bits), C[m][n].
  Value amxBlock(Value row, int64_t kAmx, Value into, Value packed) {
    Type bf16 = rw.getBF16Type(), i16 = rw.getI16Type(), f32 = rw.getF32Type();
    int64_t amxPairs = kAmx / 2;
    auto slice = [&](Value source, ArrayRef<int64_t> sizes, ArrayRef<OpFoldResult> tail) {
      auto type = cast<RankedTensorType>(source.getType());
      SmallVector<OpFoldResult> offsets(batch, rw.getIndexAttr(0)), size, strides;
      offsets.append(tail.begin(), tail.end());
      for (int64_t i = 0; i < batch; ++i)
        size.push_back(rw.getIndexAttr(1));
      for (int64_t v : sizes)
        size.push_back(rw.getIndexAttr(v));
      strides.assign(offsets.size(), rw.getIndexAttr(1));
      auto reduced = tensor::ExtractSliceOp::inferCanonicalRankReducedResultType(
          sizes.size(), type, offsets, size, strides);
      return rw.create<tensor::ExtractSliceOp>(loc, reduced, source, offsets, size, strides);
    };
    Value aBlock = slice(a, {kAmxRows, kAmx}, {row, rw.getIndexAttr(0)});
    tensor::ExtractSliceOp cBlock = slice(into, {kAmxRows, cols}, {row, rw.getIndexAttr(0)});
    Value bBlock = rw.create<tensor::ExtractSliceOp>(
        loc, packed, ArrayRef<OpFoldResult>{rw.getIndexAttr(0), rw.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(amxPairs), rw.getIndexAttr(2 * cols)},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(1), rw.getIndexAttr(1)});
    SmallVector<ReassociationIndices> split = {{0}, {1, 2}};
    Value a3 = rw.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({kAmxRows, amxPairs, 2}, bf16), aBlock, split);
    Value b3 = rw.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({amxPairs, cols, 2}, i16), bBlock, split);
    MLIRContext *ctx = rw.getContext();
    AffineExpr m, n, p, j;
    bindDims(ctx, m, n, p, j);
    SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {m, p, j}, ctx),
                                   AffineMap::get(4, 0, {p, n, j}, ctx),
                                   AffineMap::get(4, 0, {m, n}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction, utils::IteratorType::reduction};
    auto product = rw.create<linalg::GenericOp>(
        loc, TypeRange{cBlock.getType()}, ValueRange{a3, b3}, ValueRange{cBlock}, maps, iterators,
        [&](OpBuilder &bb, Location l, ValueRange args) {
          Value x = bb.create<arith::ExtFOp>(l, f32, args[0]);
          Value bits = bb.create<arith::BitcastOp>(l, bf16, args[1]);
          Value y = bb.create<arith::ExtFOp>(l, f32, bits);
          Value sum = bb.create<arith::AddFOp>(l, args[2], bb.create<arith::MulFOp>(l, x, y));
          bb.create<linalg::YieldOp>(l, sum);
        });
    product->setAttr(kAmxTilesAttr, rw.getUnitAttr());
    return rw
        .create<tensor::InsertSliceOp>(loc, product.getResult(0), into, cBlock.getMixedOffsets(),
                                       cBlock.getMixedSizes(), cBlock.getMixedStrides())
        .getResult();
  }

  /// Indices into an operand: the batch axes at 0, then `tail`.
  SmallVector<Value> at(ValueRange tail) {
    SmallVector<Value> indices(batch, index(0));
    indices.append(tail.begin(), tail.end());
    return indices;
  }

  Value read(OpBuilder &b, VectorType type, Value source, ValueRange indices,
             ArrayRef<bool> inBounds) {
    Value pad = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type.getElementType()));
    return b.create<vector::TransferReadOp>(loc, type, source, indices, pad, inBounds);
  }

  /// A bf16 vector read in bounds, as i16 (bf16 values in LLVM's vector
  /// operations would be widened to f32 and back on CPUs without bf16).
  Value readBits(OpBuilder &bb, ArrayRef<int64_t> shape, Value source, ValueRange indices) {
    SmallVector<bool> inBounds(shape.size(), true);
    Value v = read(bb, VectorType::get(shape, bb.getBF16Type()), source, indices, inBounds);
    return bb.create<vector::BitCastOp>(loc, VectorType::get(shape, bb.getI16Type()), v);
  }

  /// B's chunk as pairs of K: tensor<pairs x (2 cols) x i16>, the pair past
  /// an odd K completed with zeros.
  Value packB() {
    Type i16 = rw.getI16Type();
    Value empty = rw.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{pairs, 2 * cols}, i16);
    auto pairAt = [&](OpBuilder &bb, Value p, bool last) -> Value {
      Value k0 = bb.create<arith::MulIOp>(loc, p, index(2));
      if (bTransposed) {
        // B[n][2p], B[n][2p + 1] are adjacent: cols pairs in a row.
        if (!last) {
          Value block = readBits(bb, {cols, 2}, b, at({index(0), k0}));
          return bb.create<vector::ShapeCastOp>(loc, VectorType::get({2 * cols}, i16), block);
        }
        Value column = readBits(bb, {cols, 1}, b, at({index(0), k0}));
        Value even = bb.create<vector::ShapeCastOp>(loc, VectorType::get({cols}, i16), column);
        return bb.create<vector::InterleaveOp>(loc, even, zeros(bb, cols));
      }
      Value even, odd;
      if (!last) {
        Value both = readBits(bb, {2, cols}, b, at({k0, index(0)}));
        even = bb.create<vector::ExtractOp>(loc, both, 0);
        odd = bb.create<vector::ExtractOp>(loc, both, 1);
      } else {
        even = readBits(bb, {cols}, b, at({k0, index(0)}));
        odd = zeros(bb, cols);
      }
      return bb.create<vector::InterleaveOp>(loc, even, odd);
    };
    auto write = [&](OpBuilder &bb, Value pair, Value into, Value p) {
      return bb
          .create<vector::TransferWriteOp>(loc, pair, into, ValueRange{p, index(0)},
                                           ArrayRef<bool>{true})
          .getResult();
    };
    auto loop = rw.create<scf::ForOp>(
        loc, index(0), index(k / 2), index(1), ValueRange{empty},
        [&](OpBuilder &bb, Location l, Value p, ValueRange args) {
          bb.create<scf::YieldOp>(l, write(bb, pairAt(bb, p, false), args[0], p));
        });
    Value packed = loop.getResult(0);
    if (k % 2)
      packed = write(rw, pairAt(rw, index(k / 2), true), packed, index(k / 2));
    return packed;
  }

  Value zeros(OpBuilder &bb, int64_t n) {
    return createScalarOrSplatConstant(bb, loc, VectorType::get({n}, bb.getI16Type()), 0);
  }

  /// When A is the same for every panel of the loop around this one (a
  /// slice of values defined outside it), sets the insertion point before
  /// that loop and returns A there; else null.
  Value hoistedA() {
    auto loop = rw.getInsertionBlock()->getParentOp();
    auto panels = dyn_cast_or_null<scf::ForOp>(loop);
    if (!panels)
      return {};
    auto outside = [&](Value v) { return !panels->isAncestor(v.getParentRegion()->getParentOp()); };
    if (outside(a)) {
      rw.setInsertionPoint(panels);
      return a;
    }
    auto slice = a.getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || !llvm::all_of(slice->getOperands(), outside))
      return {};
    rw.setInsertionPoint(panels);
    return rw.clone(*slice)->getResult(0);
  }

  /// A read transposed (A[.., K, M]) as its pairs of K for its first
  /// `packedRows` rows (a multiple of the block's rows): tensor<pairs x
  /// capacity x i32>, packed[p][m] = A[2p][m] | A[2p + 1][m] << 16 (the high
  /// half zero past an odd K), a register block's rows per step; each full
  /// register block then broadcasts a row's pair straight from memory.
  Value packA(int64_t capacity, Value packedRows) {
    Type i32 = rw.getI32Type();
    auto wordType = VectorType::get({rows}, i32);
    Value empty = rw.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{pairs, capacity}, i32);
    auto pairsAt = [&](OpBuilder &bb, Value p, Value m0, bool last) -> Value {
      Value k0 = bb.create<arith::MulIOp>(loc, p, index(2));
      if (last) {
        Value even = readBits(bb, {rows}, a, at({k0, m0}));
        return bb.create<arith::ExtUIOp>(loc, wordType, even);
      }
      Value both = readBits(bb, {2, rows}, a, at({k0, m0}));
      Value even = bb.create<vector::ExtractOp>(loc, both, 0);
      Value odd = bb.create<vector::ExtractOp>(loc, both, 1);
      Value interleaved = bb.create<vector::InterleaveOp>(loc, even, odd);
      return bb.create<vector::BitCastOp>(loc, wordType, interleaved);
    };
    auto rowsOf = [&](OpBuilder &ob, Value p, Value into, bool last) {
      auto loop = ob.create<scf::ForOp>(
          loc, index(0), packedRows, index(rows), ValueRange{into},
          [&](OpBuilder &bb, Location l, Value m0, ValueRange args) {
            Value written = bb.create<vector::TransferWriteOp>(l, pairsAt(bb, p, m0, last),
                                                               args[0], ValueRange{p, m0},
                                                               ArrayRef<bool>{true})
                                .getResult();
            bb.create<scf::YieldOp>(l, written);
          });
      return loop.getResult(0);
    };
    auto loop = rw.create<scf::ForOp>(
        loc, index(0), index(k / 2), index(1), ValueRange{empty},
        [&](OpBuilder &bb, Location l, Value p, ValueRange args) {
          bb.create<scf::YieldOp>(l, rowsOf(bb, p, args[0], false));
        });
    Value result = loop.getResult(0);
    if (k % 2)
      result = rowsOf(rw, index(k / 2), result, true);
    return result;
  }

  /// Rows [from, to) of C in blocks of `blockRows`, over the pairs of K
  /// from `firstPair` on.
  Value rowLoop(Value from, Value to, int64_t blockRows, Value into, Value packed,
                int64_t firstPair) {
    auto loop = rw.create<scf::ForOp>(
        loc, from, to, index(blockRows), ValueRange{into},
        [&](OpBuilder &bb, Location l, Value row, ValueRange args) {
          OpBuilder::InsertionGuard guard(rw);
          rw.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          bb.create<scf::YieldOp>(l, block(row, blockRows, args[0], packed, firstPair));
        });
    return loop.getResult(0);
  }

  /// The register block of `blockRows` rows from `row`: accumulators read
  /// from C, updated through every pair of K from `firstPair` on, written
  /// back.
  Value block(Value row, int64_t blockRows, Value into, Value packed, int64_t firstPair) {
    Type f32 = rw.getF32Type();
    bool fullBlock = blockRows == rows;
    int64_t regs = cols / lanes;
    auto accType = VectorType::get({lanes}, f32);
    SmallVector<Value> rowIndex;
    for (int64_t r = 0; r < blockRows; ++r)
      rowIndex.push_back(rw.create<arith::AddIOp>(loc, row, index(r)));
    SmallVector<Value> accs;
    for (int64_t r = 0; r < blockRows; ++r)
      for (int64_t g = 0; g < regs; ++g)
        accs.push_back(read(rw, accType, into, at({rowIndex[r], index(g * lanes)}), {true}));
    auto loop = rw.create<scf::ForOp>(
        loc, index(firstPair), index(k / 2), index(1), accs,
        [&](OpBuilder &bb, Location l, Value p, ValueRange args) {
          OpBuilder::InsertionGuard guard(rw);
          rw.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          rw.create<scf::YieldOp>(
              l, step(args, p, pairsOfA(p, rowIndex, false, fullBlock), packed));
        });
    SmallVector<Value> result(loop.getResults());
    if (k % 2) {
      Value p = index(k / 2);
      result = step(result, p, pairsOfA(p, rowIndex, true, fullBlock), packed);
    }
    Value out = into;
    for (int64_t r = 0; r < blockRows; ++r)
      for (int64_t g = 0; g < regs; ++g)
        out = rw.create<vector::TransferWriteOp>(loc, result[r * regs + g], out,
                                                 at({rowIndex[r], index(g * lanes)}),
                                                 ArrayRef<bool>{true})
                  .getResult();
    return out;
  }

  /// The accumulators after pair `p` (A's pairs of the block's rows given).
  SmallVector<Value> step(ValueRange accs, Value p, ArrayRef<Value> aPairs, Value packed) {
    int64_t regs = cols / lanes;
    SmallVector<Value> bPairs;
    for (int64_t g = 0; g < regs; ++g)
      bPairs.push_back(read(rw, VectorType::get({2 * lanes}, rw.getI16Type()), packed,
                            {p, index(g * 2 * lanes)}, {true}));
    SmallVector<Value> next;
    for (size_t r = 0; r < aPairs.size(); ++r)
      for (int64_t g = 0; g < regs; ++g)
        next.push_back(dot(accs[r * regs + g], aPairs[r], bPairs[g]));
    return next;
  }

  /// The bf16 pair (2p, 2p + 1) of A for each row, as an i32; with `last`,
  /// the element 2p past an odd K alone (a zero high half). A full block
  /// reads A's packed pairs where there are.
  SmallVector<Value> pairsOfA(Value p, ArrayRef<Value> rowIndex, bool last, bool fullBlock) {
    Type i32 = rw.getI32Type();
    Value k0 = rw.create<arith::MulIOp>(loc, p, index(2));
    int64_t n = static_cast<int64_t>(rowIndex.size());
    SmallVector<Value> result;
    if (!aTransposed) {
      for (Value r : rowIndex) {
        Value bits = readBits(rw, {last ? 1 : 2}, a, at({r, k0}));
        if (last) {
          Value half = rw.create<vector::ExtractOp>(loc, bits, 0);
          result.push_back(rw.create<arith::ExtUIOp>(loc, i32, half));
        } else {
          Value word = rw.create<vector::BitCastOp>(loc, VectorType::get({1}, i32), bits);
          result.push_back(rw.create<vector::ExtractOp>(loc, word, 0));
        }
      }
      return result;
    }
    if (packedA && fullBlock) {
      for (Value r : rowIndex) {
        Value word = read(rw, VectorType::get({1}, i32), packedA, {p, r}, {true});
        result.push_back(rw.create<vector::ExtractOp>(loc, word, 0));
      }
      return result;
    }
    // A[2p][rows] and A[2p + 1][rows], interleaved into the rows' pairs.
    Value words;
    if (last) {
      Value even = readBits(rw, {n}, a, at({k0, rowIndex.front()}));
      words = rw.create<arith::ExtUIOp>(loc, VectorType::get({n}, i32), even);
    } else {
      Value both = readBits(rw, {2, n}, a, at({k0, rowIndex.front()}));
      Value even = rw.create<vector::ExtractOp>(loc, both, 0);
      Value odd = rw.create<vector::ExtractOp>(loc, both, 1);
      Value pairs = rw.create<vector::InterleaveOp>(loc, even, odd);
      words = rw.create<vector::BitCastOp>(loc, VectorType::get({n}, i32), pairs);
    }
    for (int64_t r = 0; r < n; ++r)
      result.push_back(rw.create<vector::ExtractOp>(loc, words, r));
    return result;
  }

  /// acc + a.even b.even + a.odd b.odd in each lane; `aPair` an i32 (the
  /// same pair for every lane), `bPairs` the bits of 2 x lanes bf16.
  Value dot(Value acc, Value aPair, Value bPairs) {
    Type f32 = rw.getF32Type(), i32 = rw.getI32Type(), bf16 = rw.getBF16Type();
    auto accType = VectorType::get({lanes}, f32);
    auto wordType = VectorType::get({lanes}, i32);
    if (s.bf16Dot) {
      Value words = rw.create<vector::BroadcastOp>(loc, wordType, aPair);
      auto pairType = VectorType::get({2 * lanes}, bf16);
      Value aVec = rw.create<vector::BitCastOp>(loc, pairType, words);
      Value bVec = rw.create<vector::BitCastOp>(loc, pairType, bPairs);
      std::string name = "llvm.x86.avx512bf16.dpbf16ps." + std::to_string(lanes * 32);
      return rw
          .create<LLVM::CallIntrinsicOp>(loc, accType, rw.getStringAttr(name),
                                         ValueRange{acc, aVec, bVec})
          .getResult(0);
    }
    // The even element is the low half of the 32 bits, the odd one the high
    // half; each as f32 is its bits shifted (or masked) into the upper half.
    Value bWords = rw.create<vector::BitCastOp>(loc, wordType, bPairs);
    auto halves = [&](Value words) -> std::pair<Value, Value> {
      Value even = rw.create<arith::ShLIOp>(
          loc, words, createScalarOrSplatConstant(rw, loc, wordType, 16));
      Value odd = rw.create<arith::AndIOp>(
          loc, words, createScalarOrSplatConstant(rw, loc, wordType, int32_t(0xffff0000)));
      return {rw.create<arith::BitcastOp>(loc, accType, even),
              rw.create<arith::BitcastOp>(loc, accType, odd)};
    };
    auto [bEven, bOdd] = halves(bWords);
    // A's pair broadcast first (one load), then split in vector registers.
    auto [aEven, aOdd] = halves(rw.create<vector::BroadcastOp>(loc, wordType, aPair));
    Value first = rw.create<vector::FMAOp>(loc, aEven, bEven, acc);
    return rw.create<vector::FMAOp>(loc, aOdd, bOdd, first);
  }

  RewriterBase &rw;
  Location loc;
  const VectorStrategy &s;
  Value a, b, c;
  Value packedA; ///< A's pairs (packA), when A is read transposed and packed.
  bool aTransposed = false, bTransposed = false;
  int64_t batch = 0, cols = 0, k = 0, pairs = 0, lanes = 16, rows = 8;
};

} // namespace

LogicalResult lowerPairedPanel(RewriterBase &rewriter, linalg::LinalgOp op,
                               const VectorStrategy &strategy) {
  if (!bertc::isMatmul(op) || !op.hasPureTensorSemantics() ||
      !getElementTypeOrSelf(op.getDpsInputOperand(0)->get().getType()).isBF16())
    return failure();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  size_t n = ranges.size();
  int64_t cols = ranges[n - 2], k = ranges[n - 1];
  if (cols != strategy.registerCols || cols % strategy.vector != 0 || ShapedType::isDynamic(k))
    return failure();
  for (size_t i = 0; i + 3 < n; ++i)
    if (ranges[i] != 1)
      return failure();
  rewriter.setInsertionPoint(op);
  Value result = PairedPanel(rewriter, op, strategy).emit();
  rewriter.replaceOp(op, result);
  return success();
}

} // namespace bertc::cpu
