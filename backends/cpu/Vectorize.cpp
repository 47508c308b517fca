//===- Vectorize.cpp - Vector code for each workgroup's tile --------------===//
//
// Inside a workgroup, each linalg op is tiled with scf.for into pieces of a
// fixed, small shape (the kernel's strategy), each loop is peeled so that its
// full pieces have static shapes, and those pieces are rewritten with vector
// ops:
//  - matmuls into chunks of K, then panels of N a register block wide
//    (with `pack_b`, each full panel's chunk of B copied into a contiguous
//    stack buffer first, transposed on the way when B is read transposed),
//    then register blocks of accumulators updated by one rank-1 product
//    per step of K (the K loop innermost, so that after
//    bufferization the accumulators are hoisted into registers);
//  - transposes into square blocks;
//  - row reductions (a reduction along the last loop only) row by row, each
//    row into a vector of partial results, combined across its lanes once
//    at the row's end (not at every vector of the row, a serial chain);
//  - other ops into rows of vector elements along their last loop.
// The partial pieces at the ends stay scalar loops.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Internal.h"
#include "backends/cpu/Passes.h"
#include "passes/MatmulOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/Passes.h"

#include <algorithm>
#include <functional>

using namespace mlir;

namespace bertc::cpu {

#define GEN_PASS_DEF_CPUVECTORIZE
#include "backends/cpu/Passes.h.inc"

namespace {

/// Tile sizes for the vector pieces of `op`'s loops (1 = not tiled beyond
/// one element), or nothing when `op` is not worth vectorising.
std::optional<SmallVector<int64_t>> pieceSizes(linalg::LinalgOp op, const VectorStrategy &s) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty())
    return std::nullopt;
  SmallVector<int64_t> sizes(ranges.size(), 1);
  size_t n = ranges.size();
  if (bertc::isMatmul(op)) {
    // (batch,) M, N, K: a register block, K one step at a time.
    sizes[n - 3] = s.registerRows;
    sizes[n - 2] = s.registerCols;
    return sizes;
  }
  if (auto transpose = dyn_cast<linalg::TransposeOp>(op.getOperation())) {
    // Output loop whose input axis is the input's innermost one.
    ArrayRef<int64_t> perm = transpose.getPermutation();
    size_t fromInner = 0;
    while (fromInner < n && perm[fromInner] != static_cast<int64_t>(n - 1))
      ++fromInner;
    sizes[n - 1] = fromInner == n - 1 ? s.vector : s.transpose;
    if (fromInner != n - 1)
      sizes[fromInner] = s.transpose;
    return sizes;
  }
  sizes.back() = s.vector;
  return sizes;
}

/// Tiles `op` with scf.for loops (size 0: not tiled) and replaces it.
FailureOr<scf::SCFTilingResult> tileWithLoops(RewriterBase &rewriter, linalg::LinalgOp op,
                                              ArrayRef<OpFoldResult> tiles) {
  rewriter.setInsertionPoint(op);
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  options.setTileSizes(tiles);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (succeeded(tiled))
    rewriter.replaceOp(op, tiled->replacements);
  return tiled;
}

/// Peels each loop of `tiled`, so that all its iterations but the last see
/// a full tile of static size.
void peelLoops(RewriterBase &rewriter, const scf::SCFTilingResult &tiled) {
  for (LoopLikeOpInterface loop : tiled.loops) {
    scf::ForOp partial;
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, cast<scf::ForOp>(loop.getOperation()),
                                            partial);
  }
}

/// True for a static op small enough to become straight-line vector code.
bool isVectorPiece(linalg::LinalgOp op, int64_t maxElements) {
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape() || op->hasAttr(kAmxTilesAttr))
    return false;
  int64_t elements = 1;
  for (int64_t r : op.getStaticLoopRanges())
    elements *= r;
  return elements <= maxElements;
}

/// Reads `op`'s inputs without their unit dimensions indexed by a constant
/// 0 (a mask [batch, 1, 1, keys] of one batch read as
/// (d0, d1) -> (0, 0, 0, d1)): each such input becomes a rank-reducing
/// slice of itself and its map loses those results, so that every map is a
/// projected permutation, as the vectoriser requires.
void dropConstantUnitDims(RewriterBase &rewriter, linalg::GenericOp op) {
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type || !type.hasStaticShape())
      continue;
    AffineMap map = op.getMatchingIndexingMap(input);
    SmallVector<int64_t> dropped;
    SmallVector<int64_t> kept;
    for (auto [i, e] : llvm::enumerate(map.getResults())) {
      auto c = dyn_cast<AffineConstantExpr>(e);
      if (c && c.getValue() == 0 && type.getDimSize(i) == 1)
        dropped.push_back(i);
      else
        kept.push_back(type.getDimSize(i));
    }
    if (dropped.empty())
      continue;
    rewriter.setInsertionPoint(op);
    int64_t rank = type.getRank();
    auto reduced = RankedTensorType::get(kept, type.getElementType());
    Value slice = rewriter.create<tensor::ExtractSliceOp>(
        op.getLoc(), reduced, input->get(),
        SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(0)),
        getAsIndexOpFoldResult(rewriter.getContext(), type.getShape()),
        SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(1)));
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    maps[input->getOperandNumber()] = map.dropResults(dropped);
    rewriter.modifyOpInPlace(op, [&] {
      input->set(slice);
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
  }
}

/// Tiles `op` into pieces with scf.for and peels each loop, so that all but
/// the last iteration of every loop see a full, static piece.
LogicalResult tileIntoPieces(RewriterBase &rewriter, linalg::LinalgOp op,
                             const VectorStrategy &strategy) {
  std::optional<SmallVector<int64_t>> sizes = pieceSizes(op, strategy);
  if (!sizes)
    return success();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<OpFoldResult> tiles;
  bool tiled_any = false;
  for (auto [size, range] : llvm::zip(*sizes, ranges)) {
    bool whole = !ShapedType::isDynamic(range) && size >= range;
    tiles.push_back(rewriter.getIndexAttr(whole ? 0 : size));
    tiled_any = tiled_any || !whole;
  }
  if (!tiled_any)
    return success();
  FailureOr<scf::SCFTilingResult> tiled = tileWithLoops(rewriter, op, tiles);
  if (failed(tiled))
    return op.emitError("cannot tile into vector pieces");
  peelLoops(rewriter, *tiled);
  return success();
}

/// Splits a matmul's K loop into chunks of `kChunk` (an scf.for accumulating
/// into the same output, peeled: every chunk but a shorter last one has a
/// static length).
void tileReduction(RewriterBase &rewriter, linalg::LinalgOp op, int64_t kChunk) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (!bertc::isMatmul(op) || ranges.back() <= kChunk || ShapedType::isDynamic(ranges.back()))
    return;
  SmallVector<OpFoldResult> tiles(ranges.size(), rewriter.getIndexAttr(0));
  tiles.back() = rewriter.getIndexAttr(kChunk);
  FailureOr<scf::SCFTilingResult> tiled = tileWithLoops(rewriter, op, tiles);
  if (succeeded(tiled))
    peelLoops(rewriter, *tiled);
}

/// Splits a row reduction (every loop parallel but the last, a reduction of
/// static length over `width` with one combiner that has a neutral element:
/// sums, maxima, ...) into rows (scf.for over each parallel loop), then each
/// row into a loop over chunks of `width` that combines each chunk
/// elementwise into a row of `width` partial results (one vector piece),
/// and a final reduction of those partials (peeled: every chunk but a
/// shorter last one is static).
void tileRowReduction(RewriterBase &rewriter, linalg::LinalgOp op, int64_t width) {
  if (bertc::isMatmul(op) || op.getNumDpsInits() != 1 || op->getNumResults() != 1)
    return;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  size_t n = iterators.size();
  if (n == 0 || iterators.back() != utils::IteratorType::reduction ||
      !llvm::all_of(ArrayRef(iterators).drop_back(), [](utils::IteratorType t) {
        return t == utils::IteratorType::parallel;
      }))
    return;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges.back()) || ranges.back() <= width)
    return;
  SmallVector<Operation *> combiner;
  if (!matchReduction(op.getRegionOutputArgs(), 0, combiner) || combiner.size() != 1 ||
      !arith::getNeutralElement(combiner.front()))
    return;
  linalg::LinalgOp row = op;
  if (llvm::any_of(ArrayRef(ranges).drop_back(), [](int64_t r) { return r != 1; })) {
    SmallVector<OpFoldResult> rows(n, rewriter.getIndexAttr(1));
    rows.back() = rewriter.getIndexAttr(0);
    FailureOr<scf::SCFTilingResult> tiled = tileWithLoops(rewriter, op, rows);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return;
    row = cast<linalg::LinalgOp>(tiled->tiledOps.front());
  }
  SmallVector<OpFoldResult> chunks(n, rewriter.getIndexAttr(0));
  chunks.back() = rewriter.getIndexAttr(width);
  rewriter.setInsertionPoint(row);
  FailureOr<scf::SCFReductionTilingResult> partial = scf::tileReductionUsingScf(
      rewriter, cast<PartialReductionOpInterface>(row.getOperation()), chunks);
  if (failed(partial))
    return;
  // MLIR 19 leaves the partial op's linalg.index of the chunked loop relative
  // to its chunk: add the chunk's offset.
  Value offset = cast<scf::ForOp>(partial->loops.front().getOperation()).getInductionVar();
  for (Operation *tiledOp : partial->parallelTiledOps)
    tiledOp->walk([&](linalg::IndexOp index) {
      if (index.getDim() != n - 1)
        return;
      rewriter.setInsertionPointAfter(index);
      auto shifted = rewriter.create<arith::AddIOp>(index.getLoc(), index, offset);
      rewriter.replaceAllUsesExcept(index, shifted.getResult(), shifted);
    });
  for (LoopLikeOpInterface loop : partial->loops) {
    scf::ForOp last;
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, cast<scf::ForOp>(loop.getOperation()), last);
  }
}

/// Splits a matmul into column panels as wide as its register block (an
/// scf.for over N, one over each batch, peeled), so that each panel's
/// chunk of B can be packed.
void tilePanels(RewriterBase &rewriter, linalg::LinalgOp op, int64_t cols) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  size_t n = ranges.size();
  if (!bertc::isMatmul(op))
    return;
  SmallVector<OpFoldResult> tiles(n, rewriter.getIndexAttr(0));
  bool tiledAny = false;
  for (size_t i = 0; i + 3 < n; ++i) {
    tiles[i] = rewriter.getIndexAttr(1);
    tiledAny = tiledAny || ranges[i] != 1;
  }
  if (ShapedType::isDynamic(ranges[n - 2]) || ranges[n - 2] > cols) {
    tiles[n - 2] = rewriter.getIndexAttr(cols);
    tiledAny = true;
  }
  if (!tiledAny)
    return;
  FailureOr<scf::SCFTilingResult> tiled = tileWithLoops(rewriter, op, tiles);
  if (succeeded(tiled))
    peelLoops(rewriter, *tiled);
}

/// The copy of `from` (static [1, ...,] K x cols) into `into`, row by row
/// in vectors of `vector` elements.
Value copyRows(RewriterBase &rewriter, Location loc, Value from, Value into, int64_t vector) {
  auto type = cast<RankedTensorType>(from.getType());
  int64_t rank = type.getRank(), rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
  Value pad = rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(type.getElementType()));
  auto loop = rewriter.create<scf::ForOp>(
      loc, zero, rewriter.create<arith::ConstantIndexOp>(loc, rows),
      rewriter.create<arith::ConstantIndexOp>(loc, 1), ValueRange{into},
      [&](OpBuilder &b, Location l, Value row, ValueRange args) {
        Value acc = args[0];
        int64_t width = std::min(vector, cols);
        auto vt = VectorType::get({width}, type.getElementType());
        SmallVector<bool> inBounds = {true};
        for (int64_t c = 0; c + width <= cols; c += width) {
          SmallVector<Value> idx(rank, zero);
          idx[rank - 2] = row;
          idx[rank - 1] = b.create<arith::ConstantIndexOp>(l, c);
          Value v = b.create<vector::TransferReadOp>(l, vt, from, idx, pad, inBounds);
          acc = b.create<vector::TransferWriteOp>(l, v, acc, idx, inBounds).getResult();
        }
        b.create<scf::YieldOp>(l, acc);
      });
  return loop.getResult(0);
}

/// A panel of B read in place is packed when the workgroup has at least this
/// many register blocks of rows to read it (the copy costs about
/// 1 / (this x rows) of the product), or an unknown number. The packed copy
/// (a scratch buffer on the kernel's stack) is one contiguous block of
/// K x cols, written once, then read by every register block of the rows in
/// order, with no stride that maps all of K to a few cache sets.
constexpr int64_t kMinBlocksToPack = 4;

/// True for the matmuls that read B transposed (B: [batch,] N x K).
bool readsBTransposed(linalg::LinalgOp op) {
  return isa<linalg::MatmulTransposeBOp, linalg::BatchMatmulTransposeBOp>(op.getOperation());
}

/// Packs a panel of B for `op` (its loops [batch,] M, N, K tiled to one
/// panel of N and one chunk of K), so that every register block of its rows
/// reads one contiguous K x cols block:
///  - B read in place (K x cols): each full panel is copied row by row when
///    the workgroup has at least kMinBlocksToPack register blocks of rows;
///  - B read transposed (cols x K): every panel with a static shape is
///    transposed into the K x cols copy (a linalg.transpose, vectorised in
///    square blocks like the others), and `op` becomes the plain form of
///    the product on that copy.
void packPanel(RewriterBase &rewriter, linalg::LinalgOp op, int64_t rows, int64_t cols,
               int64_t vector) {
  if (!bertc::isMatmul(op))
    return;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  size_t n = ranges.size();
  int64_t m = ranges[n - 3];
  OpOperand *b = op.getDpsInputOperand(1);
  auto type = dyn_cast<RankedTensorType>(b->get().getType());
  if (!type || !type.hasStaticShape())
    return;
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  if (readsBTransposed(op)) {
    int64_t rank = type.getRank();
    SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    std::swap(perm[rank - 1], perm[rank - 2]);
    SmallVector<int64_t> shape = applyPermutation(type.getShape(), perm);
    Value empty = rewriter.create<tensor::EmptyOp>(loc, shape, type.getElementType());
    Value packed =
        rewriter.create<linalg::TransposeOp>(loc, b->get(), empty, perm).getResult().front();
    SmallVector<Value> inputs = {op.getDpsInputOperand(0)->get(), packed};
    Value init = op.getDpsInitOperand(0)->get();
    Operation *plain = rank == 2
                           ? rewriter.create<linalg::MatmulOp>(loc, inputs, ValueRange{init})
                           : rewriter.create<linalg::BatchMatmulOp>(loc, inputs, ValueRange{init});
    rewriter.replaceOp(op, plain->getResults());
    return;
  }
  if (ranges[n - 2] != cols || cols % vector != 0 ||
      (!ShapedType::isDynamic(m) && m < kMinBlocksToPack * rows))
    return;
  Value empty = rewriter.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  Value packed = copyRows(rewriter, loc, b->get(), empty, vector);
  rewriter.modifyOpInPlace(op, [&] { b->set(packed); });
}

LogicalResult vectorize(func::FuncOp kernel, const VectorStrategy &strategy,
                        const std::function<LogicalResult(OpPassManager &)> &runPipeline) {
  MLIRContext *ctx = kernel.getContext();
  IRRewriter rewriter(ctx);
  // The ops still to tile; AMX's block products stay whole.
  auto tensorOps = [&] {
    SmallVector<linalg::LinalgOp> ops;
    kernel.walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && !op->hasAttr(kAmxTilesAttr))
        ops.push_back(op);
    });
    return ops;
  };
  OpPassManager pm(func::FuncOp::getOperationName());
  pm.addPass(createCanonicalizerPass());
  kernel.walk([&](linalg::GenericOp op) {
    if (op.hasPureTensorSemantics())
      dropConstantUnitDims(rewriter, op);
  });
  for (linalg::LinalgOp op : tensorOps())
    tileReduction(rewriter, op, strategy.kChunk);
  if (strategy.packB) {
    // Chunks of K, then panels of N, with static shapes where full.
    for (linalg::LinalgOp op : tensorOps())
      tilePanels(rewriter, op, strategy.registerCols);
    if (failed(runPipeline(pm)))
      return failure();
    // Full panels of bf16 matmuls consume K in pairs; others are packed.
    for (linalg::LinalgOp op : tensorOps())
      if (failed(lowerPairedPanel(rewriter, op, strategy)))
        packPanel(rewriter, op, strategy.registerRows, strategy.registerCols, strategy.vector);
  }
  for (linalg::LinalgOp op : tensorOps())
    tileRowReduction(rewriter, op, strategy.vector);
  for (linalg::LinalgOp op : tensorOps())
    if (failed(tileIntoPieces(rewriter, op, strategy)))
      return failure();
  // Full pieces get static shapes.
  if (failed(runPipeline(pm)))
    return failure();
  SmallVector<linalg::LinalgOp> pieces;
  kernel.walk([&](linalg::LinalgOp op) {
    if (isVectorPiece(op, strategy.maxPieceElements))
      pieces.push_back(op);
  });
  for (linalg::LinalgOp op : pieces) {
    if (failed(linalg::vectorizeOpPrecondition(op)))
      continue;
    rewriter.setInsertionPoint(op);
    if (failed(linalg::vectorize(rewriter, op)))
      return op.emitError("vectorisation failed");
  }
  // Static transfers get their in-bounds flags, trivial loops fold.
  if (failed(runPipeline(pm)))
    return failure();
  // Matmul accumulators: the read and write of each register block move out
  // of the K loop and the block is carried in vector registers. Innermost
  // loops first, so that blocks also leave loops that do not touch them.
  SmallVector<scf::ForOp> loops;
  kernel.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops) {
    // Slices first, then the vector transfers on the slices they leave.
    LoopLikeOpInterface l = cast<LoopLikeOpInterface>(loop.getOperation());
    for (int round = 0; round < 3; ++round)
      l = hoistLoopInvariantSubsets(rewriter, l);
  }
  return success();
}

struct CpuVectorize : impl::CpuVectorizeBase<CpuVectorize> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    std::optional<VectorStrategy> strategy = VectorStrategy::of(kernel);
    if (!strategy)
      return;
    auto run = [&](OpPassManager &pm) { return runPipeline(pm, kernel); };
    if (failed(vectorize(kernel, *strategy, run)))
      signalPassFailure();
  }
};

} // namespace

} // namespace bertc::cpu
