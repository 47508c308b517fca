//===- Strategy.cpp - Workgroup tiles and the strategy attributes ---------===//
#include "backends/common/Strategy.h"
#include "passes/MatmulOps.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace bertc {

SmallVector<TilingInterface> findRoots(Operation *kernel) {
  SmallVector<TilingInterface> roots;
  kernel->walk([&](bufferization::MaterializeInDestinationOp m) {
    if (auto op = m.getSource().getDefiningOp<TilingInterface>())
      if (!llvm::is_contained(roots, op))
        roots.push_back(op);
  });
  return roots;
}

namespace {

/// What the ops fused into a root's tiles ask of its tiling.
struct FusedProducers {
  /// The outer loops that may be split: a row reduction among the
  /// producers (a LayerNorm's mean, a softmax's max) must see whole rows,
  /// so only the loops of its rows.
  size_t splittableLoops;
  /// A matmul among them (an epilogue): the kernel is tiled like it.
  bool matmul = false;
  /// Any producer that computes (each keeps its tile as scratch).
  bool any = false;
};

/// The root's producers in the kernel (not the other roots of a
/// horizontally fused kernel), for a root of `loops` loops.
FusedProducers fusedProducers(TilingInterface root, size_t loops) {
  FusedProducers fused{loops};
  llvm::SetVector<Operation *> slice;
  BackwardSliceOptions sliceOptions;
  sliceOptions.filter = [&](Operation *op) { return op->getBlock() == root->getBlock(); };
  getBackwardSlice(root.getOperation(), &slice, sliceOptions);
  for (Operation *sliced : slice) {
    auto op = dyn_cast<linalg::LinalgOp>(sliced);
    if (!op || isa<linalg::FillOp>(op))
      continue;
    fused.any = true;
    if (op.getNumReductionLoops() == 0)
      continue;
    fused.matmul = fused.matmul || bertc::isMatmul(op);
    SmallVector<utils::IteratorType> its = op.getIteratorTypesArray();
    size_t rows = 0;
    while (rows < its.size() && its[rows] == utils::IteratorType::parallel)
      ++rows;
    fused.splittableLoops = std::min(fused.splittableLoops, rows);
  }
  return fused;
}

} // namespace

SmallVector<int64_t> chooseWorkgroupTiles(TilingInterface root, const WorkgroupTileLimits &limits) {
  int64_t target = limits.targetWorkgroups;
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
  FusedProducers fused = fusedProducers(root, domain.size());
  size_t splittable = fused.splittableLoops;
  bool matmulProducer = fused.matmul, producers = fused.any;
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
    if (matmul && limits.batchesFirst)
      for (int d : chosen)
        if (d < rowsDim && halved(d) < tiles[d]) {
          best = d;
          break;
        }
    if (best < 0)
      break;
    tiles[best] = halved(best);
  }
  // Tiles that divide their loops: every workgroup's tile, and so its
  // scratch space, has a static shape.
  if (limits.evenTiles)
    for (int d : chosen)
      while (sizes[d] % tiles[d])
        --tiles[d];
  // A loop tiled by its full size (or more, rounded up to a granule) is
  // not tiled.
  for (int d : chosen)
    if (tiles[d] >= sizes[d])
      tiles[d] = 0;
  return tiles;
}

void setWorkgroupTiles(ModuleOp kernels, const WorkgroupTileLimits &limits) {
  Builder b(kernels.getContext());
  for (auto kernel : kernels.getOps<func::FuncOp>())
    for (TilingInterface root : findRoots(kernel)) {
      SmallVector<int64_t> tiles = chooseWorkgroupTiles(root, limits);
      if (llvm::any_of(tiles, [](int64_t t) { return t != 0; }))
        root->setAttr(kWorkgroupTilesAttr, b.getDenseI64ArrayAttr(tiles));
    }
}

namespace {

/// Adds `entries` to the strategy of `kernel`.
void addToStrategy(func::FuncOp kernel, ArrayRef<NamedAttribute> entries) {
  NamedAttrList all;
  if (auto strategy = kernel->getAttrOfType<DictionaryAttr>(kStrategyAttr))
    all.append(strategy.getValue());
  for (const NamedAttribute &entry : entries)
    all.set(entry.getName(), entry.getValue());
  kernel->setAttr(kStrategyAttr, all.getDictionary(kernel.getContext()));
}

} // namespace

void setKernelOpBlocks(ModuleOp kernels, const KernelOpBlocks &blocks) {
  Builder b(kernels.getContext());
  for (auto kernel : kernels.getOps<func::FuncOp>()) {
    if (!kernel.getBody().getOps<graph::AttentionOp>().empty())
      addToStrategy(kernel,
                    {b.getNamedAttr("attention_rows", b.getI64IntegerAttr(blocks.attentionRows)),
                     b.getNamedAttr("attention_keys", b.getI64IntegerAttr(blocks.attentionKeys))});
    if (!kernel.getBody().getOps<graph::EmbeddingGradOp>().empty())
      addToStrategy(kernel, {b.getNamedAttr("scatter_column_blocks",
                                            b.getI64IntegerAttr(blocks.scatterColumnBlocks))});
    if (!kernel.getBody().getOps<graph::CrossEntropyRowsOp>().empty())
      addToStrategy(kernel, {b.getNamedAttr("loss_rows", b.getI64IntegerAttr(blocks.lossRows))});
  }
}

int64_t strategyValue(Operation *kernel, StringRef key, int64_t otherwise) {
  auto strategy = kernel->getAttrOfType<DictionaryAttr>(kStrategyAttr);
  auto value = strategy ? strategy.getAs<IntegerAttr>(key) : IntegerAttr();
  return value ? value.getInt() : otherwise;
}

LogicalResult readWorkgroupGrids(ModuleOp kernels, rt::Program &program) {
  std::vector<std::array<int64_t, 3>> grids;
  for (const std::string &name : program.kernels) {
    Operation *kernel = nullptr;
    kernels.walk([&](SymbolOpInterface op) {
      if (!kernel && op.getName() == name && op->hasAttr(kGridAttr))
        kernel = op;
    });
    if (!kernel)
      return kernels.emitError("kernel '") << name << "' has no " << kGridAttr;
    auto grid = kernel->getAttrOfType<DenseI64ArrayAttr>(kGridAttr);
    if (!grid || grid.size() != kGridDims)
      return kernel->emitError("malformed ") << kGridAttr;
    grids.push_back({grid[0], grid[1], grid[2]});
  }
  for (rt::DispatchDesc &d : program.dispatches)
    d.grid = grids[d.kernel];
  return success();
}

} // namespace bertc
