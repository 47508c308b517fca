//===- TileWorkgroups.cpp - Each kernel's roots tiled into workgroups -----===//
#include "backends/common/Passes.h"
#include "backends/common/Strategy.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace bertc {

#define GEN_PASS_DEF_TILEWORKGROUPS
#include "backends/common/Passes.h.inc"

namespace {

/// Tiles `root` into an scf.forall of workgroups by its
/// `bertc.workgroup_tiles`, with its producers fused in; null when it has
/// none (it runs whole in one workgroup).
FailureOr<scf::ForallOp> tileRoot(TilingInterface root) {
  auto chosen = root->getAttrOfType<DenseI64ArrayAttr>(kWorkgroupTilesAttr);
  if (!chosen)
    return scf::ForallOp();
  SmallVector<int64_t> tiles(chosen.asArrayRef());
  if (tiles.size() != root.getLoopIteratorTypes().size())
    return root.emitError("bertc.workgroup_tiles has ")
           << tiles.size() << " sizes for " << root.getLoopIteratorTypes().size() << " loops";
  IRRewriter rewriter(root.getContext());
  rewriter.setInsertionPoint(root);
  scf::SCFTilingOptions tiling;
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  SmallVector<OpFoldResult> sizes;
  for (int64_t t : tiles)
    sizes.push_back(rewriter.getIndexAttr(t));
  tiling.setTileSizes(sizes);
  scf::SCFTileAndFuseOptions fusing;
  fusing.setTilingOptions(tiling);
  FailureOr<scf::SCFTileAndFuseResult> result =
      scf::tileConsumerAndFuseProducersUsingSCF(rewriter, root, fusing);
  if (failed(result))
    return root.emitError("cannot tile this op into workgroups");
  for (OpResult r : root->getResults())
    rewriter.replaceAllUsesWith(r, result->replacements.lookup(r));
  rewriter.eraseOp(root);
  auto forall = cast<scf::ForallOp>(result->loops.front().getOperation());
  forall.walk([](Operation *op) { op->removeAttr(kWorkgroupTilesAttr); });
  // A fused producer's tile is a slice of its whole empty result: make it an
  // empty tile, so that the workgroup's scratch space is one tile, not the
  // whole tensor.
  RewritePatternSet patterns(root.getContext());
  tensor::populateFoldTensorEmptyPatterns(patterns);
  if (failed(applyPatternsAndFoldGreedily(forall, std::move(patterns))))
    return forall.emitError("cannot shrink the scratch tensors of this kernel");
  // A producer used twice in the tile (a softmax's exponentials, by the sum
  // and by the division) was fused twice: compute it once.
  DominanceInfo dominance;
  eliminateCommonSubExpressions(rewriter, dominance, forall);
  return forall;
}

/// In a kernel of several roots, runs `forall` (whose iterations are
/// workgroups offset .. offset+n-1 of a one-dimensional grid) only in those
/// workgroups: `scf.if` on the workgroup id, the iteration's indices
/// recovered from it, the parallel insertions become insertions. Returns n.
FailureOr<int64_t> guardByWorkgroup(scf::ForallOp forall, Value x, int64_t offset) {
  IRRewriter rewriter(forall.getContext());
  rewriter.setInsertionPoint(forall);
  Location loc = forall.getLoc();
  std::optional<SmallVector<int64_t>> lbsOr = getConstantIntValues(forall.getMixedLowerBound());
  std::optional<SmallVector<int64_t>> ubsOr = getConstantIntValues(forall.getMixedUpperBound());
  std::optional<SmallVector<int64_t>> stepsOr = getConstantIntValues(forall.getMixedStep());
  if (!lbsOr || !ubsOr || !stepsOr)
    return forall.emitError("workgroup loop bounds must be static");
  SmallVector<int64_t> lbs = *lbsOr, ubs = *ubsOr, steps = *stepsOr;
  SmallVector<int64_t> counts;
  int64_t n = 1;
  for (size_t d = 0; d < lbs.size(); ++d) {
    counts.push_back((ubs[d] - lbs[d] + steps[d] - 1) / steps[d]);
    n *= counts.back();
  }
  Value lo = rewriter.create<arith::ConstantIndexOp>(loc, offset);
  Value hi = rewriter.create<arith::ConstantIndexOp>(loc, offset + n);
  Value inRange = rewriter.create<arith::AndIOp>(
      loc, rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, x, lo),
      rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, hi));
  auto guard = rewriter.create<scf::IfOp>(loc, forall.getResultTypes(), inRange,
                                          /*withElseRegion=*/true);
  rewriter.setInsertionPointToStart(guard.elseBlock());
  rewriter.create<scf::YieldOp>(loc, forall.getOutputs());

  rewriter.setInsertionPointToStart(guard.thenBlock());
  IRMapping map;
  AffineExpr w = rewriter.getAffineDimExpr(0);
  int64_t stride = n;
  for (size_t d = 0; d < counts.size(); ++d) {
    stride /= counts[d];
    AffineExpr iv = ((w - offset).floorDiv(stride) % counts[d]) * steps[d] + lbs[d];
    map.map(forall.getInductionVars()[d],
            rewriter.create<affine::AffineApplyOp>(loc, AffineMap::get(1, 0, iv), ValueRange{x}));
  }
  for (auto [arg, init] : llvm::zip(forall.getRegionIterArgs(), forall.getOutputs()))
    map.map(arg, init);
  for (Operation &op : forall.getBody()->without_terminator())
    rewriter.clone(op, map);
  SmallVector<Value> results(forall.getOutputs().begin(), forall.getOutputs().end());
  for (Operation &op : forall.getTerminator().getYieldingOps()) {
    auto insert = cast<tensor::ParallelInsertSliceOp>(op);
    unsigned k = cast<BlockArgument>(insert.getDest()).getArgNumber() - forall.getRank();
    auto mapped = [&](SmallVector<OpFoldResult> list) {
      for (OpFoldResult &v : list)
        if (auto value = dyn_cast<Value>(v))
          v = map.lookupOrDefault(value);
      return list;
    };
    results[k] = rewriter.create<tensor::InsertSliceOp>(
        loc, map.lookupOrDefault(insert.getSource()), results[k], mapped(insert.getMixedOffsets()),
        mapped(insert.getMixedSizes()), mapped(insert.getMixedStrides()));
  }
  rewriter.create<scf::YieldOp>(loc, results);
  rewriter.replaceOp(forall, guard.getResults());
  return n;
}

/// In a kernel of several roots, runs an untiled `root` in workgroup
/// `offset` only, with its producers (the fills of its outputs).
void guardInOneWorkgroup(TilingInterface root, Value x, int64_t offset) {
  IRRewriter rewriter(root.getContext());
  rewriter.setInsertionPoint(root);
  Location loc = root.getLoc();
  auto dps = cast<DestinationStyleOpInterface>(root.getOperation());
  SmallVector<Value> destinations;
  for (Value init : dps.getDpsInits()) {
    auto fill = init.getDefiningOp<linalg::FillOp>();
    destinations.push_back(fill ? fill.getOutputs()[0] : init);
  }
  Value mine = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x,
                                              rewriter.create<arith::ConstantIndexOp>(loc, offset));
  auto guard = rewriter.create<scf::IfOp>(loc, root->getResultTypes(), mine,
                                          /*withElseRegion=*/true);
  rewriter.setInsertionPointToStart(guard.elseBlock());
  rewriter.create<scf::YieldOp>(loc, destinations);
  rewriter.setInsertionPointToStart(guard.thenBlock());
  // The root's producers in the kernel (its fills among them) run there
  // too, not in every workgroup; the empty tensors stay outside, so that a
  // fill still initialises the destination the else branch yields.
  llvm::SetVector<Operation *> slice;
  BackwardSliceOptions sliceOptions;
  sliceOptions.filter = [&](Operation *op) {
    return op->getBlock() == root->getBlock() &&
           !isa<bufferization::ToTensorOp, arith::ConstantOp, tensor::EmptyOp>(op);
  };
  getBackwardSlice(root.getOperation(), &slice, sliceOptions);
  IRMapping map;
  for (Operation *op : slice)
    rewriter.clone(*op, map);
  Operation *inside = rewriter.clone(*root, map);
  rewriter.create<scf::YieldOp>(loc, inside->getResults());
  rewriter.replaceOp(root, guard.getResults());
}

LogicalResult tileIntoWorkgroups(func::FuncOp kernel) {
  SmallVector<TilingInterface> roots = findRoots(kernel);
  // A kernel whose root cannot be tiled (a scatter loop) is one workgroup.
  if (roots.size() <= 1)
    return roots.empty() ? success() : LogicalResult(tileRoot(roots.front()));
  // Several roots: each its own range of a one-dimensional grid, recorded
  // for bertc-distribute-workgroups.
  Value x = kernel.getArgument(kernel.getNumArguments() - kGridDims);
  int64_t offset = 0;
  for (TilingInterface root : roots) {
    FailureOr<scf::ForallOp> forall = tileRoot(root);
    if (failed(forall))
      return failure();
    if (*forall) {
      FailureOr<int64_t> n = guardByWorkgroup(*forall, x, offset);
      if (failed(n))
        return failure();
      offset += *n;
    } else {
      guardInOneWorkgroup(root, x, offset);
      offset += 1;
    }
  }
  OpBuilder b(kernel);
  kernel->setAttr(kGridAttr, b.getDenseI64ArrayAttr({offset, 1, 1}));
  return success();
}

struct TileWorkgroups : impl::TileWorkgroupsBase<TileWorkgroups> {
  void runOnOperation() override {
    if (failed(tileIntoWorkgroups(getOperation())))
      signalPassFailure();
  }
};

} // namespace

} // namespace bertc
