//===- KernelCodegen.cpp - Kernels over memrefs, tiled into workgroups ----===//
//
// Tensor-level work of the CPU back end: destination-passing form over
// memref bindings, tiling of each kernel's root op into an scf.forall of
// workgroups (with its producers fused in), bufferization, and the
// replacement of that forall by the workgroup ids.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/cpu/Internal.h"
#include "passes/MatmulOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace bertc::cpu {

namespace {

constexpr int kGridDims = 3;
/// The grid of a kernel whose workgroups were assigned before bufferization.
constexpr llvm::StringLiteral kGridAttr = "bertc.grid";

/// Rewrites `func @k(tensors) -> tensors` as
/// `func @k(input memrefs, output memrefs, %x, %y, %z: index)`.
func::FuncOp toDestinationPassing(func::FuncOp fn) {
  OpBuilder b(fn);
  Location loc = fn.getLoc();
  auto memrefOf = [](Type t) {
    auto tensor = cast<RankedTensorType>(t);
    return MemRefType::get(tensor.getShape(), tensor.getElementType());
  };
  SmallVector<Type> args;
  for (Type t : fn.getArgumentTypes())
    args.push_back(memrefOf(t));
  for (Type t : fn.getResultTypes())
    args.push_back(memrefOf(t));
  for (int i = 0; i < kGridDims; ++i)
    args.push_back(b.getIndexType());
  auto kernel = b.create<func::FuncOp>(loc, fn.getSymName(), b.getFunctionType(args, {}));
  Block *entry = kernel.addEntryBlock();
  OpBuilder kb = OpBuilder::atBlockBegin(entry);
  IRMapping map;
  for (auto [i, arg] : llvm::enumerate(fn.getArguments()))
    map.map(arg, kb.create<bufferization::ToTensorOp>(loc, entry->getArgument(i),
                                                      /*restrict=*/true, /*writable=*/false));
  for (Operation &op : fn.getBody().front().without_terminator())
    kb.clone(op, map);
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value dest = entry->getArgument(fn.getNumArguments() + i);
    kb.create<bufferization::MaterializeInDestinationOp>(loc, TypeRange{}, map.lookup(v), dest,
                                                         /*restrict=*/true, /*writable=*/true);
  }
  kb.create<func::ReturnOp>(loc);
  fn.erase();
  return kernel;
}

/// The ops whose results the kernel writes, in order: each is tiled into
/// workgroups. A kernel of several (a horizontally fused dispatch) gives
/// each its own range of the grid.
SmallVector<TilingInterface> findRoots(func::FuncOp kernel) {
  SmallVector<TilingInterface> roots;
  kernel.walk([&](bufferization::MaterializeInDestinationOp m) {
    if (auto op = m.getSource().getDefiningOp<TilingInterface>())
      if (!llvm::is_contained(roots, op))
        roots.push_back(op);
  });
  return roots;
}

/// Tile sizes for the root's loops: the outermost parallel loops (at most
/// three, the grid's rank) are halved, largest first, until there are about
/// `target` workgroups; other loops stay whole (size 0).
SmallVector<int64_t> workgroupTileSizes(TilingInterface root, const CpuOptions &options) {
  const WorkgroupTiles &limits = options.tiles;
  int64_t target = options.targetWorkgroups;
  OpBuilder b(root);
  SmallVector<Range> domain = root.getIterationDomain(b);
  SmallVector<utils::IteratorType> iterators = root.getLoopIteratorTypes();
  SmallVector<int64_t> sizes, tiles(domain.size(), 0);
  int64_t iterations = 1;
  for (Range r : domain) {
    std::optional<int64_t> size = getConstantIntValue(r.size);
    sizes.push_back(size ? *size : 1);
    iterations *= sizes.back();
  }
  target = std::min(target, std::max<int64_t>(1, iterations / limits.minIterations));
  // The ops fused into the root's tiles: a row reduction among them (a
  // LayerNorm's mean, a softmax's max) must see whole rows, so only the
  // loops of its rows are split; a matmul among them (an epilogue) makes
  // the kernel tiled like that matmul.
  size_t splittable = domain.size();
  bool matmulProducer = false, producers = false;
  // The root's producers in the kernel (not the other roots of a
  // horizontally fused kernel).
  llvm::SetVector<Operation *> slice;
  BackwardSliceOptions sliceOptions;
  sliceOptions.filter = [&](Operation *op) { return op->getBlock() == root->getBlock(); };
  getBackwardSlice(root.getOperation(), &slice, sliceOptions);
  for (Operation *sliced : slice) {
    auto op = dyn_cast<linalg::LinalgOp>(sliced);
    if (!op || isa<linalg::FillOp>(op))
      continue;
    producers = true;
    if (op.getNumReductionLoops() == 0)
      continue;
    matmulProducer = matmulProducer || bertc::isMatmul(op);
    SmallVector<utils::IteratorType> its = op.getIteratorTypesArray();
    size_t rows = 0;
    while (rows < its.size() && its[rows] == utils::IteratorType::parallel)
      ++rows;
    splittable = std::min(splittable, rows);
  }
  SmallVector<int> chosen;
  for (size_t i = 0; i < splittable && chosen.size() < kGridDims; ++i)
    if (iterators[i] == utils::IteratorType::parallel)
      chosen.push_back(static_cast<int>(i));
  // A matmul workgroup's tile is at most maxMatmulRows x maxMatmulCols so
  // that its chunk of B (K-chunk x columns) stays in cache while its rows
  // use it.
  // Its rows and columns are the root's last loops but one (K is last), or,
  // for an epilogue over the product, its last two.
  bool matmulRoot = bertc::isMatmul(root);
  int rowsDim = static_cast<int>(domain.size()) - (matmulRoot ? 3 : 2);
  matmulRoot = matmulRoot || matmulProducer;
  // Each producer's tile is scratch space on the workgroup's stack: small
  // tiles keep it in cache.
  if (producers && !matmulRoot)
    target = std::max(target, iterations / limits.maxFusedTile);
  // Capped loops are split evenly, so no workgroup gets a sliver.
  auto evenSplit = [](int64_t size, int64_t cap, int64_t granularity) {
    int64_t parts = (size + cap - 1) / cap;
    int64_t tile = (size + parts - 1) / parts;
    return (tile + granularity - 1) / granularity * granularity;
  };
  for (int d : chosen) {
    tiles[d] = sizes[d];
    if (matmulRoot && d == rowsDim)
      tiles[d] = evenSplit(sizes[d], limits.maxMatmulRows, limits.matmulRowGranule);
    if (matmulRoot && d == rowsDim + 1)
      tiles[d] = evenSplit(sizes[d], limits.maxMatmulCols, limits.colGranule);
  }
  auto count = [&] {
    int64_t n = 1;
    for (int d : chosen)
      n *= (sizes[d] + tiles[d] - 1) / tiles[d];
    return n;
  };
  // Tiles stay multiples of the vector pieces inside them, so that only the
  // last workgroup along a loop has a partial piece.
  bool matmul = matmulRoot;
  size_t n = domain.size();
  auto granularity = [&](size_t d) -> int64_t {
    if (matmul)
      return static_cast<int>(d) == rowsDim       ? limits.matmulRowGranule
             : static_cast<int>(d) == rowsDim + 1 ? limits.colGranule
                                                  : 1;
    return d == n - 1 ? limits.colGranule : 1;
  };
  auto halved = [&](int d) {
    int64_t g = granularity(d), half = (tiles[d] + 1) / 2;
    return (half + g - 1) / g * g;
  };
  while (count() < target) {
    int best = -1;
    for (int d : chosen)
      if (halved(d) < tiles[d] && (best < 0 || tiles[d] > tiles[best]))
        best = d;
    if (best < 0)
      break;
    tiles[best] = halved(best);
  }
  // Tiles that divide their loops: every workgroup's tile, and so its
  // scratch space, has a static shape.
  if (options.evenTiles)
    for (int d : chosen)
      while (sizes[d] % tiles[d])
        --tiles[d];
  // A loop tiled by its full size is not tiled.
  for (int d : chosen)
    if (tiles[d] == sizes[d])
      tiles[d] = 0;
  return tiles;
}

/// Tiles `root` into an scf.forall of workgroups with its producers fused
/// in; null when it is too small to split.
FailureOr<scf::ForallOp> tileRoot(TilingInterface root, const CpuOptions &options) {
  SmallVector<int64_t> tiles = workgroupTileSizes(root, options);
  if (llvm::all_of(tiles, [](int64_t t) { return t == 0; }))
    return scf::ForallOp();
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

LogicalResult tileIntoWorkgroups(func::FuncOp kernel, const CpuOptions &options) {
  SmallVector<TilingInterface> roots = findRoots(kernel);
  // A kernel whose root cannot be tiled (a scatter loop) is one workgroup.
  if (roots.size() <= 1)
    return roots.empty() ? success() : LogicalResult(tileRoot(roots.front(), options));
  // Several roots: each its own range of a one-dimensional grid, recorded
  // for distribute().
  Value x = kernel.getArgument(kernel.getNumArguments() - kGridDims);
  int64_t offset = 0;
  for (TilingInterface root : roots) {
    FailureOr<scf::ForallOp> forall = tileRoot(root, options);
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

/// Replaces the kernel's outermost scf.forall (on buffers now) by one of
/// its iterations: the one of workgroup (x, y, z). Returns the grid.
FailureOr<std::array<int64_t, 3>> distribute(func::FuncOp kernel) {
  std::array<int64_t, 3> grid = {1, 1, 1};
  if (auto fixed = kernel->getAttrOfType<DenseI64ArrayAttr>(kGridAttr)) {
    llvm::copy(fixed.asArrayRef(), grid.begin());
    kernel->removeAttr(kGridAttr);
    return grid;
  }
  scf::ForallOp forall;
  for (Operation &op : kernel.getBody().front())
    if (auto f = dyn_cast<scf::ForallOp>(op)) {
      if (forall)
        return kernel.emitError("kernel has more than one workgroup loop");
      forall = f;
    }
  if (!forall)
    return grid;
  if (forall.getRank() > kGridDims)
    return forall.emitError("workgroup loop of rank ") << forall.getRank() << " > 3";
  std::optional<SmallVector<int64_t>> lbs = getConstantIntValues(forall.getMixedLowerBound());
  std::optional<SmallVector<int64_t>> ubs = getConstantIntValues(forall.getMixedUpperBound());
  std::optional<SmallVector<int64_t>> steps = getConstantIntValues(forall.getMixedStep());
  if (!lbs || !ubs || !steps)
    return forall.emitError("workgroup loop bounds must be static");
  IRRewriter rewriter(kernel.getContext());
  rewriter.setInsertionPoint(forall);
  Location loc = forall.getLoc();
  unsigned numArgs = kernel.getNumArguments();
  SmallVector<Value> ivs;
  for (int64_t i = 0; i < forall.getRank(); ++i) {
    grid[i] = ((*ubs)[i] - (*lbs)[i] + (*steps)[i] - 1) / (*steps)[i];
    Value wg = kernel.getArgument(numArgs - kGridDims + i);
    AffineExpr d0 = rewriter.getAffineDimExpr(0);
    ivs.push_back(rewriter.create<affine::AffineApplyOp>(
        loc, AffineMap::get(1, 0, d0 * (*steps)[i] + (*lbs)[i]), ValueRange{wg}));
  }
  Block *body = forall.getBody();
  rewriter.eraseOp(body->getTerminator());
  rewriter.inlineBlockBefore(body, forall, ivs);
  rewriter.eraseOp(forall);
  return grid;
}

/// Erases ops whose results nobody uses, such as the untiled producers left
/// behind by tiling, so that bufferization does not give them buffers.
void eraseDeadOps(ModuleOp module) {
  for (bool changed = true; changed;) {
    SmallVector<Operation *> dead;
    module.walk([&](Operation *op) {
      if (isOpTriviallyDead(op))
        dead.push_back(op);
    });
    for (Operation *op : dead)
      op->erase();
    changed = !dead.empty();
  }
}

LogicalResult bufferize(ModuleOp module, Attribute scratchMemorySpace) {
  eraseDeadOps(module);
  IRRewriter rewriter(module.getContext());
  if (failed(bufferization::eliminateEmptyTensors(rewriter, module)))
    return module.emitError("empty tensor elimination failed");
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = false;
  if (scratchMemorySpace)
    options.defaultMemorySpaceFn = [=](TensorType) -> std::optional<Attribute> {
      return scratchMemorySpace;
    };
  options.unknownTypeConverterFn = [](Value v, Attribute memorySpace,
                                      const bufferization::BufferizationOptions &) {
    return bufferization::getMemRefTypeWithStaticIdentityLayout(cast<TensorType>(v.getType()),
                                                                memorySpace);
  };
  // Copies stay linalg ops, lowered to loops like any other.
  options.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
    b.create<linalg::CopyOp>(loc, from, to);
    return success();
  };
  // A kernel's scratch space lives on its stack: kernels allocate nothing.
  // Static scratch buffers are placed once at the kernel's entry, not in the
  // loops that use them, so the stack does not grow with the trip count.
  options.allocationFn = [](OpBuilder &b, Location loc, MemRefType type, ValueRange dynamic,
                            unsigned alignment) -> FailureOr<Value> {
    OpBuilder::InsertionGuard guard(b);
    if (dynamic.empty()) {
      auto fn = b.getInsertionBlock()->getParent()->getParentOfType<func::FuncOp>();
      b.setInsertionPointToStart(&fn.getBody().front());
    }
    return b.create<memref::AllocaOp>(loc, type, dynamic, b.getI64IntegerAttr(alignment))
        .getResult();
  };
  if (failed(bufferization::runOneShotBufferize(module, options)))
    return module.emitError("bufferization failed");
  return success();
}

} // namespace

LogicalResult buildWorkgroupKernels(ModuleOp kernels, rt::Program &program,
                                    const CpuOptions &options) {
  SmallVector<func::FuncOp> fns(kernels.getOps<func::FuncOp>());
  SmallVector<func::FuncOp> rewritten;
  for (func::FuncOp fn : fns)
    rewritten.push_back(toDestinationPassing(fn));
  for (func::FuncOp kernel : rewritten)
    if (failed(tileIntoWorkgroups(kernel, options)))
      return failure();
  if (options.vectorize && failed(vectorizeKernels(kernels)))
    return failure();
  if (failed(bufferize(kernels, options.scratchMemorySpace)))
    return failure();
  std::vector<std::array<int64_t, 3>> grids;
  for (func::FuncOp kernel : rewritten) {
    auto grid = distribute(kernel);
    if (failed(grid))
      return failure();
    grids.push_back(*grid);
  }
  for (rt::DispatchDesc &d : program.dispatches)
    d.grid = grids[d.kernel];
  return success();
}

} // namespace bertc::cpu
