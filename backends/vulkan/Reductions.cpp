//===- Reductions.cpp - Matmuls staged, small reductions spread -----------===//
#include "backends/common/Strategy.h"
#include "backends/vulkan/Internal.h"
#include "backends/vulkan/Passes.h"
#include "passes/MatmulOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace bertc::vulkan {

#define GEN_PASS_DEF_VULKANDISTRIBUTEREDUCTIONS
#include "backends/vulkan/Passes.h.inc"

namespace {

/// A kernel's invocations, as reductions number them.
struct Invocations {
  gpu::GPUFuncOp kernel;
  Value id;              ///< The invocation's id in its workgroup (x).
  int64_t count = 1;     ///< Invocations per workgroup.
  int64_t cluster = 1;   ///< Lanes a reduction may combine by shuffles; 1: none.
  bool shuffled = false; ///< Whether a reduction did.

  /// subgroup id x subgroup size + lane: the invocations numbered subgroup
  /// after subgroup, read once at the kernel's entry.
  Value subgroupPosition() {
    if (position)
      return position;
    OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
    Location loc = kernel.getLoc();
    Value subgroup = b.create<gpu::SubgroupIdOp>(loc, /*upper_bound=*/nullptr);
    Value size = b.create<gpu::SubgroupSizeOp>(loc, b.getIndexType(), /*upper_bound=*/nullptr);
    Value lane = b.create<gpu::LaneIdOp>(loc, /*upper_bound=*/nullptr);
    position = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, subgroup, size), lane);
    return position;
  }

private:
  Value position;
};

/// The most iterations a reduction's loop should run in one invocation:
/// half of lavapipe's limit (gallivm stops an invocation's loops after
/// 65535 back-edges in all, silently).
constexpr int64_t kMaxLoopIterations = 32768;

/// The op that folds each element into a reduction's output (its payload
/// yields `combine(out, f(inputs))`, the output read nowhere else), if it
/// is commutative and has a neutral element.
Operation *reductionCombiner(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return nullptr;
  Block &body = *op.getBlock();
  BlockArgument out = body.getArguments().back();
  Operation *combine = body.getTerminator()->getOperand(0).getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 || !out.hasOneUse() ||
      *out.getUsers().begin() != combine || !combine->hasTrait<OpTrait::IsCommutative>() ||
      !arith::getNeutralElement(combine))
    return nullptr;
  return combine;
}

/// A reduction whose output has fewer elements than half the invocations
/// (a sum to one value, a row maximum over a few rows) would leave most of
/// them idle and run long loops in the rest: `g` invocations share each
/// output element instead. Each folds every g-th element of its reduction
/// into a partial result in workgroup memory; after a barrier, one
/// invocation per output element folds the g partial results into it.
/// `partials` holds the kernel's buffers of partial results, one per element
/// type: reductions take turns with them, barriers between.
///
/// With subgroup shuffles (`inv.cluster` > 1), the invocations are numbered
/// by subgroup (subgroup id x subgroup size + lane) so that each group of g
/// is made of whole aligned clusters of c lanes, c the largest power of two
/// dividing g up to the cluster: a butterfly of shuffles combines each
/// cluster's partial results in registers, and only every c-th goes
/// through workgroup memory; when c = g, the first lane of each group
/// writes the output itself, with no second step.
class ReductionSpread {
public:
  ReductionSpread(linalg::LinalgOp op, Invocations &inv, Attribute workgroupSpace,
                  llvm::DenseMap<Type, Value> &partialBuffers)
      : op(op), inv(inv), workgroupSpace(workgroupSpace), partialBuffers(partialBuffers),
        loc(op.getLoc()), b(op), constants(OpBuilder::atBlockBegin(
                                     &op->getParentOfType<gpu::GPUFuncOp>().getBody().front())) {}

  /// Whether `op` is a reduction to too few outputs, and worth spreading.
  bool applies();
  /// Replaces `op` by the two steps (or, when a cluster is the whole group,
  /// one).
  void rewrite();

private:
  /// Constants at the kernel's entry, so that every step built below sees
  /// them.
  Value index(int64_t v) { return constants.create<arith::ConstantIndexOp>(loc, v); }
  /// The kernel's buffer of partial results of this element type.
  Value partialsBuffer();
  /// The loop indices, in the op's order, from its parallel and reduction
  /// parts.
  SmallVector<Value> loopIndices(ArrayRef<Value> parallel, ArrayRef<Value> reduction);
  SmallVector<Value> apply(OpBuilder &at, AffineMap map, ArrayRef<Value> dims);
  /// A step of the reduction, run where `who` < `count`; spreadBlock puts
  /// barriers around it. Returns a builder into it.
  OpBuilder step(Value who, int64_t count);
  /// combine(acc, partial) as the payload's combiner.
  Value combineWith(OpBuilder &where, Value acc, Value partial);
  /// The output element at the parallel loop indices `parallel`.
  SmallVector<Value> outputAt(OpBuilder &where, ArrayRef<Value> parallel);
  /// Folds reduction element `k` into `acc`: the payload on the inputs'
  /// elements at the loop indices.
  Value fold(OpBuilder &at, ArrayRef<Value> parallel, Value k, Value acc);
  /// This invocation's partial result: every g-th element from its member
  /// index on, folded in a loop.
  Value foldStrided(OpBuilder &in, ArrayRef<Value> parallel);
  /// The first step: partial results, combined by shuffles within each
  /// cluster and written to workgroup memory, or, when the cluster is the
  /// whole group, to the output by its first lane. Returns whether the
  /// output is written.
  bool partialResults();
  /// The second step: each output element folds its group's partial
  /// results in (every c-th: the clusters' are alike).
  void combinePartials();

  linalg::LinalgOp op;
  Invocations &inv;
  Attribute workgroupSpace;
  llvm::DenseMap<Type, Value> &partialBuffers;
  Location loc;
  OpBuilder b, constants;
  Operation *combine = nullptr;
  SmallVector<int64_t> ranges, parallelSizes, reductionSizes;
  SmallVector<unsigned> parallelDims, reductionDims;
  /// Output elements, reduced elements per output, invocations per output.
  int64_t outputs = 1, reduced = 1, g = 1;
  /// Invocations combined by shuffles.
  int64_t cluster = 1;
  Type element;
  Value neutral, outBuffer, position, group, member, partials;
  BlockArgument out;
  AffineMap outMap;
};

bool ReductionSpread::applies() {
  combine = reductionCombiner(op);
  if (!combine || !op.hasPureBufferSemantics() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isProjectedPermutation())
    return false;
  ranges = op.getStaticLoopRanges();
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (ShapedType::isDynamic(ranges[d]))
      return false;
    bool parallel = it == utils::IteratorType::parallel;
    (parallel ? parallelSizes : reductionSizes).push_back(ranges[d]);
    (parallel ? parallelDims : reductionDims).push_back(d);
  }
  for (int64_t size : parallelSizes)
    outputs *= size;
  for (int64_t size : reductionSizes)
    reduced *= size;
  g = inv.count / std::max<int64_t>(outputs, 1);
  return g >= 2 && reduced >= g;
}

Value ReductionSpread::partialsBuffer() {
  Value &buffer = partialBuffers[element];
  if (!buffer) {
    auto gpuFunc = op->getParentOfType<gpu::GPUFuncOp>();
    OpBuilder atEntry = OpBuilder::atBlockBegin(&gpuFunc.getBody().front());
    buffer = atEntry.create<memref::AllocOp>(
        loc, MemRefType::get({inv.count}, element, MemRefLayoutAttrInterface(), workgroupSpace));
  }
  return buffer;
}

SmallVector<Value> ReductionSpread::loopIndices(ArrayRef<Value> parallel,
                                                ArrayRef<Value> reduction) {
  SmallVector<Value> all(ranges.size());
  for (auto [d, v] : llvm::zip(parallelDims, parallel))
    all[d] = v;
  for (auto [d, v] : llvm::zip(reductionDims, reduction))
    all[d] = v;
  return all;
}

SmallVector<Value> ReductionSpread::apply(OpBuilder &at, AffineMap map, ArrayRef<Value> dims) {
  SmallVector<Value> indices;
  for (AffineExpr e : map.getResults())
    indices.push_back(
        at.create<affine::AffineApplyOp>(loc, AffineMap::get(map.getNumDims(), 0, e), dims));
  return indices;
}

OpBuilder ReductionSpread::step(Value who, int64_t count) {
  auto guard = b.create<scf::IfOp>(
      loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, who, index(count)),
      /*withElseRegion=*/false);
  guard->setAttr(kSpreadAttr, b.getUnitAttr());
  return OpBuilder::atBlockBegin(guard.thenBlock());
}

Value ReductionSpread::combineWith(OpBuilder &where, Value acc, Value partial) {
  IRMapping map;
  for (Value operand : combine->getOperands())
    map.map(operand, operand == out ? acc : partial);
  return where.clone(*combine, map)->getResult(0);
}

SmallVector<Value> ReductionSpread::outputAt(OpBuilder &where, ArrayRef<Value> parallel) {
  SmallVector<Value> reductionZeros(reductionDims.size(), index(0));
  return apply(where, outMap, loopIndices(parallel, reductionZeros));
}

Value ReductionSpread::fold(OpBuilder &at, ArrayRef<Value> parallel, Value k, Value acc) {
  Block &body = *op.getBlock();
  SmallVector<Value> dims = loopIndices(parallel, delinearize(at, loc, k, reductionSizes));
  IRMapping map;
  for (OpOperand *input : op.getDpsInputOperands())
    map.map(body.getArgument(input->getOperandNumber()),
            at.create<memref::LoadOp>(loc, input->get(),
                                      apply(at, op.getMatchingIndexingMap(input), dims)));
  map.map(out, acc);
  for (Operation &inner : body.without_terminator()) {
    if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
      map.map(idx.getResult(), dims[idx.getDim()]);
      continue;
    }
    at.clone(inner, map);
  }
  return map.lookup(body.getTerminator()->getOperand(0));
}

Value ReductionSpread::foldStrided(OpBuilder &in, ArrayRef<Value> parallel) {
  // Unrolled by 8 (elements k, k + g, ..., k + 7g per iteration), or by as
  // much more (up to 64) as keeps the loop under kMaxLoopIterations: a
  // gradient's sum of squares in BERT-large is 488000 elements per
  // invocation of 64, 3.9 million of 8, far past lavapipe's loop limit.
  int64_t unroll = reduced / g >= 16 ? 8 : 1;
  while (unroll < 64 && reduced / (g * unroll) > kMaxLoopIterations)
    unroll *= 2;
  bool whole = reduced % (g * unroll) == 0;
  auto loop =
      in.create<scf::ForOp>(loc, member, index(reduced), index(g * unroll), ValueRange{neutral});
  OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
  Value acc = loop.getRegionIterArgs()[0];
  for (int64_t j = 0; j < unroll; ++j) {
    Value k = j == 0 ? loop.getInductionVar()
                     : lb.create<arith::AddIOp>(loc, loop.getInductionVar(), index(j * g));
    if (j == 0 || whole) {
      acc = fold(lb, parallel, k, acc);
      continue;
    }
    // Past the end in the last iteration: the element is skipped.
    auto inRange = lb.create<scf::IfOp>(
        loc, TypeRange{element},
        lb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, k, index(reduced)),
        /*withElseRegion=*/true);
    OpBuilder then = inRange.getThenBodyBuilder();
    then.create<scf::YieldOp>(loc, fold(then, parallel, k, acc));
    OpBuilder otherwise = inRange.getElseBodyBuilder();
    otherwise.create<scf::YieldOp>(loc, acc);
    acc = inRange.getResult(0);
  }
  lb.create<scf::YieldOp>(loc, acc);
  return loop.getResult(0);
}

bool ReductionSpread::partialResults() {
  OpBuilder in = step(group, outputs);
  SmallVector<Value> parallel = delinearize(in, loc, group, parallelSizes);
  Value partial = foldStrided(in, parallel);
  // The cluster's partial results, combined lane with lane: after the
  // shuffles at distances c/2, ..., 1 every lane holds the cluster's. (The
  // shuffles' width is the target's subgroup size, which SPIR-V ignores:
  // every lane of a subgroup takes part.)
  for (int64_t distance = cluster / 2; distance >= 1; distance /= 2)
    partial = combineWith(
        in, partial,
        in.create<gpu::ShuffleOp>(loc, partial, distance, inv.cluster, gpu::ShuffleMode::XOR)
            .getShuffleResult());
  if (cluster == g) {
    // The group is one cluster: its first lane writes the output.
    inv.shuffled = true;
    auto first = in.create<scf::IfOp>(
        loc, in.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, member, index(0)),
        /*withElseRegion=*/false);
    OpBuilder then = OpBuilder::atBlockBegin(first.thenBlock());
    SmallVector<Value> target = outputAt(then, parallel);
    Value initial = then.create<memref::LoadOp>(loc, outBuffer, target);
    then.create<memref::StoreOp>(loc, combineWith(then, initial, partial), outBuffer, target);
    return true;
  }
  inv.shuffled = inv.shuffled || cluster > 1;
  partials = partialsBuffer();
  in.create<memref::StoreOp>(loc, partial, partials, position);
  return false;
}

void ReductionSpread::combinePartials() {
  Value invocation = inv.id;
  OpBuilder in = step(invocation, outputs);
  SmallVector<Value> target = outputAt(in, delinearize(in, loc, invocation, parallelSizes));
  Value initial = in.create<memref::LoadOp>(loc, outBuffer, target);
  Value base = in.create<arith::MulIOp>(loc, invocation, index(g));
  auto loop = in.create<scf::ForOp>(loc, index(0), index(g), index(cluster), ValueRange{initial});
  OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
  Value partial = lb.create<memref::LoadOp>(
      loc, partials, ValueRange{lb.create<arith::AddIOp>(loc, base, loop.getInductionVar())});
  lb.create<scf::YieldOp>(loc, combineWith(lb, loop.getRegionIterArgs()[0], partial));
  in.create<memref::StoreOp>(loc, loop.getResult(0), outBuffer, target);
}

void ReductionSpread::rewrite() {
  element = combine->getResult(0).getType();
  neutral = b.create<arith::ConstantOp>(loc, *arith::getNeutralElement(combine));
  out = op.getBlock()->getArguments().back();
  outBuffer = op.getDpsInitOperand(0)->get();
  outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  // Invocations combined by shuffles: a power of two dividing g, for the
  // 32-bit types shuffles carry.
  if (inv.cluster > 1 && (element.isF32() || element.isInteger(32)))
    while (cluster * 2 <= inv.cluster && g % (cluster * 2) == 0)
      cluster *= 2;
  position = cluster > 1 ? inv.subgroupPosition() : inv.id;
  // Partial results: invocation t folds reduction elements t % g, + g, ...
  // of output element t / g.
  group = b.create<arith::DivUIOp>(loc, position, index(g));
  member = b.create<arith::RemUIOp>(loc, position, index(g));
  if (!partialResults())
    combinePartials();
  op->erase();
}

/// A reduction whose output has fewer elements than half the invocations
/// (a sum to one value, a row maximum over a few rows) would leave most of
/// them idle and run long loops in the rest: `g` invocations share each
/// output element instead (see ReductionSpread). Returns whether `op` was
/// rewritten.
bool spreadReduction(linalg::LinalgOp op, Invocations &inv, Attribute workgroupSpace,
                     llvm::DenseMap<Type, Value> &partialBuffers) {
  ReductionSpread spread(op, inv, workgroupSpace, partialBuffers);
  if (!spread.applies())
    return false;
  spread.rewrite();
  return true;
}

/// Stages a workgroup's matmul through workgroup memory: its K loop in
/// chunks (of up to `staged_k_chunk`), and for each chunk the workgroup copies the pieces of
/// A (rows x chunk) and B (chunk x columns) it needs from the storage buffer
/// into workgroup memory (each element once, the invocations side by side)
/// before every invocation multiplies from there. Operands already in
/// workgroup memory (a fused producer's tile) stay. Not for tiles with a
/// side under the strategy's `staged_tile_min`, nor for those with too few outputs to keep
/// the invocations busy (spreadReduction splits their K loop among the
/// invocations instead).
void stageMatmul(linalg::LinalgOp op, const VulkanStrategy &s, Attribute workgroupSpace) {
  int64_t n = s.invocations;
  if (!bertc::isMatmul(op) || !op.hasPureBufferSemantics() || op.getNumReductionLoops() != 1)
    return;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t outputs = 1;
  unsigned kDim = 0;
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (ShapedType::isDynamic(ranges[d]))
      return;
    if (it == utils::IteratorType::reduction)
      kDim = d;
    else
      outputs *= ranges[d];
  }
  // Pieces worth the copies: each element of A's piece is used by every
  // column of the tile, each of B's by every row (the loops are [batch,]
  // M, N, K).
  int64_t rows = ranges[ranges.size() - 3], cols = ranges[ranges.size() - 2];
  if (outputs * 2 <= n || rows < s.stagedTileMin || cols < s.stagedTileMin)
    return;
  // Chunks that divide K: static pieces, no partial chunk.
  int64_t chunk = 0;
  for (int64_t c = std::min<int64_t>(s.stagedKChunk, ranges[kDim]); c >= 8 && !chunk; --c)
    if (ranges[kDim] % c == 0)
      chunk = c;
  if (!chunk)
    return;
  // The K loop in chunks: each input's view narrowed to the chunk along
  // the dimension K indexes.
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto loop = b.create<scf::ForOp>(loc, b.create<arith::ConstantIndexOp>(loc, 0),
                                   b.create<arith::ConstantIndexOp>(loc, ranges[kDim]),
                                   b.create<arith::ConstantIndexOp>(loc, chunk));
  b.setInsertionPointToStart(loop.getBody());
  IRMapping map;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap indexing = op.getMatchingIndexingMap(input);
    std::optional<unsigned> position = indexing.getResultPosition(b.getAffineDimExpr(kDim));
    auto type = cast<MemRefType>(input->get().getType());
    if (!position)
      continue;
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
    for (int64_t size : type.getShape())
      sizes.push_back(b.getIndexAttr(size));
    offsets[*position] = loop.getInductionVar();
    sizes[*position] = b.getIndexAttr(chunk);
    map.map(input->get(),
            b.create<memref::SubViewOp>(loc, input->get(), offsets, sizes, strides).getResult());
  }
  auto chunked = cast<linalg::LinalgOp>(b.clone(*op, map));
  op->erase();
  SmallVector<int64_t> operands;
  for (OpOperand *input : chunked.getDpsInputOperands()) {
    auto view = input->get().getDefiningOp<memref::SubViewOp>();
    if (view && !cast<MemRefType>(view.getSource().getType()).getMemorySpace() &&
        view.getType().hasStaticShape() && view.getType().getNumElements() <= s.stagedElementsMax)
      operands.push_back(input->getOperandNumber());
  }
  if (operands.empty())
    return;
  linalg::LinalgPromotionOptions promotion;
  promotion.setOperandsToPromote(operands);
  // One buffer per operand for the kernel, in workgroup memory.
  promotion.setAllocationDeallocationFns(
      [workgroupSpace](OpBuilder &, memref::SubViewOp view, ArrayRef<Value> bounds,
                       DataLayout &) -> std::optional<Value> {
        SmallVector<int64_t> shape;
        for (Value bound : bounds) {
          std::optional<int64_t> size = getConstantIntValue(bound);
          if (!size)
            return std::nullopt;
          shape.push_back(*size);
        }
        auto kernel = view->getParentOfType<gpu::GPUFuncOp>();
        OpBuilder atEntry = OpBuilder::atBlockBegin(&kernel.getBody().front());
        auto type = MemRefType::get(shape, view.getType().getElementType(),
                                    MemRefLayoutAttrInterface(), workgroupSpace);
        return atEntry.create<memref::AllocOp>(view.getLoc(), type).getResult();
      },
      [](OpBuilder &, Value) { return success(); });
  auto copy = [](OpBuilder &builder, Value from, Value to) {
    builder.create<linalg::CopyOp>(from.getLoc(), from, to);
    return success();
  };
  promotion.setCopyInOutFns(copy, copy);
  OpBuilder at(chunked);
  (void)linalg::promoteSubViews(at, chunked, promotion);
}

struct VulkanDistributeReductions
    : impl::VulkanDistributeReductionsBase<VulkanDistributeReductions> {
  void runOnOperation() override {
    ModuleOp kernels = getOperation();
    Attribute workgroupSpace =
        spirv::StorageClassAttr::get(&getContext(), spirv::StorageClass::Workgroup);
    SmallVector<gpu::GPUModuleOp> unshuffled;
    kernels.walk([&](gpu::GPUFuncOp kernel) {
      VulkanStrategy strategy = VulkanStrategy::of(kernel);
      Invocations inv;
      inv.kernel = kernel;
      inv.id = invocationId(kernel);
      inv.count = strategy.invocations;
      auto m = kernel->getParentOfType<gpu::GPUModuleOp>();
      bool second = m->hasAttr(kSubgroupsOfAttr);
      if (second)
        inv.cluster = strategy.subgroupCluster;
      SmallVector<linalg::LinalgOp> matmuls;
      kernel.walk([&](linalg::LinalgOp op) {
        if (bertc::isMatmul(op))
          matmuls.push_back(op);
      });
      for (linalg::LinalgOp op : matmuls)
        stageMatmul(op, strategy, workgroupSpace);
      SmallVector<linalg::LinalgOp> reductions;
      kernel.walk([&](linalg::LinalgOp op) {
        if (op.getNumReductionLoops() > 0)
          reductions.push_back(op);
      });
      llvm::DenseMap<Type, Value> partials;
      for (linalg::LinalgOp op : reductions)
        spreadReduction(op, inv, workgroupSpace, partials);
      if (second && !inv.shuffled)
        unshuffled.push_back(m);
    });
    for (gpu::GPUModuleOp m : unshuffled)
      m.erase();
  }
};

} // namespace

} // namespace bertc::vulkan
