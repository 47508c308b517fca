//===- Vectorize.cpp - Vector code for each workgroup's tile --------------===//
//
// Inside a workgroup, each linalg op is tiled with scf.for into pieces of a
// fixed, small shape, each loop is peeled so that its full pieces have static
// shapes, and those pieces are rewritten with vector ops:
//  - matmuls into register blocks of kMr x kNr accumulators updated by one
//    rank-1 product per step of K (the K loop innermost, so that after
//    bufferization the accumulators are hoisted into registers);
//  - transposes into kTranspose x kTranspose blocks;
//  - other ops into rows of kVector elements along their last loop.
// The partial pieces at the ends stay scalar loops.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Internal.h"
#include "passes/MatmulOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace bertc::cpu {

namespace {

/// Register block of a matmul: kMr rows of kNr columns. With 256-bit
/// vectors, 6 x 16 is 12 accumulator registers fed by 6 broadcasts and two
/// loads per step of K (16 registers in all).
constexpr int64_t kMr = 6;
constexpr int64_t kNr = 16;
/// K is consumed in chunks of kKc so that a chunk of B stays in L2 while
/// every register block of the workgroup's rows uses it.
constexpr int64_t kKc = 256;
/// Elements per vector piece of other ops.
constexpr int64_t kVector = 16;
/// Transposes move kTranspose x kTranspose blocks.
constexpr int64_t kTranspose = 8;
/// Larger static ops are not unrolled into vector code.
constexpr int64_t kMaxPieceElements = 1024;

/// Tile sizes for the vector pieces of `op`'s loops (1 = not tiled beyond
/// one element), or nothing when `op` is not worth vectorising.
std::optional<SmallVector<int64_t>> pieceSizes(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty())
    return std::nullopt;
  SmallVector<int64_t> sizes(ranges.size(), 1);
  size_t n = ranges.size();
  if (bertc::isMatmul(op)) {
    // (batch,) M, N, K: a register block, K one step at a time.
    sizes[n - 3] = kMr;
    sizes[n - 2] = kNr;
    return sizes;
  }
  if (auto transpose = dyn_cast<linalg::TransposeOp>(op.getOperation())) {
    // Output loop whose input axis is the input's innermost one.
    ArrayRef<int64_t> perm = transpose.getPermutation();
    size_t fromInner = 0;
    while (fromInner < n && perm[fromInner] != static_cast<int64_t>(n - 1))
      ++fromInner;
    sizes[n - 1] = fromInner == n - 1 ? kVector : kTranspose;
    if (fromInner != n - 1)
      sizes[fromInner] = kTranspose;
    return sizes;
  }
  sizes.back() = kVector;
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

/// True for a static op small enough to become straight-line vector code.
bool isVectorPiece(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape())
    return false;
  int64_t elements = 1;
  for (int64_t r : op.getStaticLoopRanges())
    elements *= r;
  return elements <= kMaxPieceElements;
}

/// Tiles `op` into pieces with scf.for and peels each loop, so that all but
/// the last iteration of every loop see a full, static piece.
LogicalResult tileIntoPieces(RewriterBase &rewriter, linalg::LinalgOp op) {
  std::optional<SmallVector<int64_t>> sizes = pieceSizes(op);
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
  for (LoopLikeOpInterface loop : tiled->loops) {
    scf::ForOp partial;
    (void)scf::peelForLoopAndSimplifyBounds(rewriter, cast<scf::ForOp>(loop.getOperation()),
                                            partial);
  }
  return success();
}

/// Splits a matmul's K loop into chunks of kKc (an scf.for accumulating
/// into the same output), returning the matmul of one chunk.
linalg::LinalgOp tileReduction(RewriterBase &rewriter, linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (!bertc::isMatmul(op) || ranges.back() <= kKc || ShapedType::isDynamic(ranges.back()))
    return op;
  SmallVector<OpFoldResult> tiles(ranges.size(), rewriter.getIndexAttr(0));
  tiles.back() = rewriter.getIndexAttr(kKc);
  FailureOr<scf::SCFTilingResult> tiled = tileWithLoops(rewriter, op, tiles);
  if (failed(tiled))
    return op;
  return cast<linalg::LinalgOp>(tiled->tiledOps.back());
}

} // namespace

LogicalResult vectorizeKernels(ModuleOp kernels) {
  MLIRContext *ctx = kernels.getContext();
  IRRewriter rewriter(ctx);
  SmallVector<linalg::LinalgOp> candidates;
  kernels.walk([&](linalg::LinalgOp op) {
    if (op.hasPureTensorSemantics())
      candidates.push_back(op);
  });
  for (linalg::LinalgOp &op : candidates)
    op = tileReduction(rewriter, op);
  for (linalg::LinalgOp op : candidates)
    if (failed(tileIntoPieces(rewriter, op)))
      return failure();
  // Full pieces get static shapes.
  PassManager pm(ctx);
  (void)applyPassManagerCLOptions(pm);
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(kernels)))
    return failure();
  SmallVector<linalg::LinalgOp> pieces;
  kernels.walk([&](linalg::LinalgOp op) {
    if (isVectorPiece(op))
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
  if (failed(pm.run(kernels)))
    return failure();
  // Matmul accumulators: the read and write of each register block move out
  // of the K loop and the block is carried in vector registers. Innermost
  // loops first, so that blocks also leave loops that do not touch them.
  SmallVector<scf::ForOp> loops;
  kernels.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops) {
    // Slices first, then the vector transfers on the slices they leave.
    LoopLikeOpInterface l = cast<LoopLikeOpInterface>(loop.getOperation());
    for (int round = 0; round < 3; ++round)
      l = hoistLoopInvariantSubsets(rewriter, l);
  }
  return success();
}

} // namespace bertc::cpu
