//===- Invocations.cpp - Each workgroup's work over its invocations -------===//
#include "backends/common/Strategy.h"
#include "backends/vulkan/Internal.h"
#include "backends/vulkan/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace bertc::vulkan {

#define GEN_PASS_DEF_VULKANDISTRIBUTEINVOCATIONS
#include "backends/vulkan/Passes.h.inc"

namespace {

/// Whether `op`, or an op inside it, writes memory.
bool writesMemory(Operation *op) {
  bool writes = false;
  op->walk([&](Operation *inner) {
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(inner))
      writes = writes || effects.hasEffect<MemoryEffects::Write>();
  });
  return writes;
}

/// Replaces a parallel loop nest by a serial one, same order.
void serialize(scf::ParallelOp loop) {
  IRRewriter rewriter(loop);
  rewriter.setInsertionPoint(loop);
  scf::LoopNest nest = scf::buildLoopNest(rewriter, loop.getLoc(), loop.getLowerBound(),
                                          loop.getUpperBound(), loop.getStep());
  SmallVector<Value> ivs;
  for (scf::ForOp f : nest.loops)
    ivs.push_back(f.getInductionVar());
  rewriter.eraseOp(loop.getBody()->getTerminator());
  rewriter.inlineBlockBefore(loop.getBody(), nest.loops.back().getBody()->getTerminator(), ivs);
  rewriter.eraseOp(loop);
}

/// Runs the iterations of a parallel loop nest over the workgroup's
/// invocations, cyclically: iteration i (row-major) on invocation i mod n,
/// so that neighbouring invocations touch neighbouring elements.
void distribute(scf::ParallelOp loop, Value invocation, int64_t n) {
  IRRewriter rewriter(loop);
  rewriter.setInsertionPoint(loop);
  Location loc = loop.getLoc();
  auto index = [&](int64_t v) { return rewriter.create<arith::ConstantIndexOp>(loc, v); };
  SmallVector<Value> counts;
  Value total = index(1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = rewriter.create<arith::SubIOp>(
        loc,
        rewriter.create<arith::AddIOp>(loc, ub,
                                       rewriter.create<arith::SubIOp>(loc, step, index(1))),
        lb);
    counts.push_back(rewriter.create<arith::DivUIOp>(loc, span, step));
    total = rewriter.create<arith::MulIOp>(loc, total, counts.back());
  }
  auto cyclic = rewriter.create<scf::ForOp>(loc, invocation, total, index(n));
  rewriter.setInsertionPointToStart(cyclic.getBody());
  SmallVector<Value> ivs = delinearize(rewriter, loc, cyclic.getInductionVar(), counts);
  for (size_t d = 0; d < ivs.size(); ++d)
    ivs[d] = rewriter.create<arith::AddIOp>(
        loc, loop.getLowerBound()[d],
        rewriter.create<arith::MulIOp>(loc, ivs[d], loop.getStep()[d]));
  rewriter.eraseOp(loop.getBody()->getTerminator());
  rewriter.inlineBlockBefore(loop.getBody(), cyclic.getBody()->getTerminator(), ivs);
  rewriter.eraseOp(loop);
}

/// Spreads the work of a block that every invocation of the workgroup runs
/// alike: each outermost parallel loop nest is distributed over the
/// invocations (the nests inside it run serially), every other op that
/// writes memory runs in invocation 0 alone, and a workgroup barrier
/// separates each such step from what comes before and after it. Ops with
/// regions that hold parallel loops (the loops over attention's key blocks,
/// the guards of horizontally fused kernels) are uniform too: their blocks
/// are spread the same way.
LogicalResult spreadBlock(Block &block, Value invocation, int64_t n) {
  auto hasParallel = [](Operation *op) {
    bool found = false;
    op->walk([&](Operation *inner) {
      found = found || isa<scf::ParallelOp>(inner) || inner->hasAttr(kSpreadAttr);
    });
    return found;
  };
  // A barrier before a step is needed when an op since the last one
  // touched memory (or, in a nested block, may have before it).
  auto barrierBefore = [](Operation *op) {
    for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
      if (isa<gpu::BarrierOp>(prev))
        return;
      if (!isMemoryEffectFree(prev)) {
        OpBuilder(op).create<gpu::BarrierOp>(op->getLoc());
        return;
      }
    }
    if (!isa<gpu::GPUFuncOp>(op->getParentOp()))
      OpBuilder(op).create<gpu::BarrierOp>(op->getLoc());
  };
  auto barrierAfter = [](Operation *op) {
    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(op);
    b.create<gpu::BarrierOp>(op->getLoc());
  };
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  for (Operation *op : ops) {
    if (op->hasAttr(kSpreadAttr)) {
      op->removeAttr(kSpreadAttr);
      barrierBefore(op);
      barrierAfter(op);
      continue;
    }
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      if (loop.getNumResults() != 0)
        return loop.emitError("cannot distribute a parallel loop with results");
      SmallVector<scf::ParallelOp> inner;
      loop.getBody()->walk([&](scf::ParallelOp p) { inner.push_back(p); });
      for (scf::ParallelOp p : inner)
        serialize(p);
      barrierBefore(loop);
      barrierAfter(loop);
      distribute(loop, invocation, n);
      continue;
    }
    if (op->getNumRegions() != 0 && hasParallel(op)) {
      for (Region &region : op->getRegions())
        for (Block &inner : region)
          if (failed(spreadBlock(inner, invocation, n)))
            return failure();
      continue;
    }
    if (!writesMemory(op))
      continue;
    if (op->getNumResults() != 0)
      return op->emitError("cannot run in one invocation: the op has results");
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, invocation,
                                          b.create<arith::ConstantIndexOp>(loc, 0));
    auto guard = b.create<scf::IfOp>(loc, first, /*withElseRegion=*/false);
    op->moveBefore(guard.thenBlock()->getTerminator());
    barrierBefore(guard);
    barrierAfter(guard);
  }
  return success();
}

/// Spreads a workgroup kernel (its linalg ops now parallel loop nests) over
/// `n` invocations; see spreadBlock. No barrier ends the kernel.
LogicalResult spreadOverInvocations(gpu::GPUFuncOp kernel, Value invocation, int64_t n) {
  Block &entry = kernel.getBody().front();
  if (failed(spreadBlock(entry, invocation, n)))
    return failure();
  Operation *last = entry.getTerminator()->getPrevNode();
  if (last && isa<gpu::BarrierOp>(last))
    last->erase();
  return success();
}

/// Keeps a loop's running value in a register: in a loop of straight-line
/// code whose only memory write is a store to one element (the memref and
/// indices defined outside the loop, every load of that memref reading the
/// same element before the store), the element is loaded once before the
/// loop, carried through it, and stored once after it. That is a matmul's
/// accumulator, otherwise read and written back on every step of K. Other
/// memrefs the loop reads are other bindings of the dispatch, which never
/// overlap the written one except elementwise in place (an optimizer
/// update, with no such loop), or workgroup memory of its own.
void accumulateInRegisters(gpu::GPUFuncOp kernel) {
  SmallVector<scf::ForOp> loops;
  kernel.walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops) {
    if (loop.getNumRegionIterArgs() != 0)
      continue;
    memref::StoreOp store;
    SmallVector<memref::LoadOp> loads;
    bool straight = true;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto s = dyn_cast<memref::StoreOp>(op)) {
        straight = straight && !store;
        store = s;
      } else if (auto l = dyn_cast<memref::LoadOp>(op)) {
        loads.push_back(l);
      } else {
        straight = straight && op.getNumRegions() == 0 && isMemoryEffectFree(&op);
      }
    }
    if (!straight || !store || !loop.isDefinedOutsideOfLoop(store.getMemRef()) ||
        !llvm::all_of(store.getIndices(), [&](Value v) { return loop.isDefinedOutsideOfLoop(v); }))
      continue;
    SmallVector<memref::LoadOp> accumulator;
    bool same = true;
    for (memref::LoadOp l : loads) {
      if (l.getMemRef() != store.getMemRef())
        continue;
      same = same && llvm::equal(l.getIndices(), store.getIndices()) && l->isBeforeInBlock(store);
      accumulator.push_back(l);
    }
    if (!same)
      continue;
    IRRewriter rewriter(loop);
    rewriter.setInsertionPoint(loop);
    Location loc = store.getLoc();
    Value initial = rewriter.create<memref::LoadOp>(loc, store.getMemRef(), store.getIndices());
    FailureOr<LoopLikeOpInterface> carried =
        loop.replaceWithAdditionalYields(rewriter, initial, /*replaceInitOperandUsesInLoop=*/false,
                                         [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                                           return SmallVector<Value>{store.getValue()};
                                         });
    if (failed(carried))
      continue;
    auto result = cast<scf::ForOp>(carried->getOperation());
    for (memref::LoadOp l : accumulator) {
      rewriter.replaceAllUsesWith(l.getResult(), result.getRegionIterArgs().back());
      rewriter.eraseOp(l);
    }
    rewriter.setInsertionPointAfter(result);
    rewriter.create<memref::StoreOp>(loc, result.getResults().back(), store.getMemRef(),
                                     store.getIndices());
    rewriter.eraseOp(store);
  }
}

/// Unrolls by 4 the innermost serial loops of static trip count: fewer
/// loop back-edges (lavapipe stops any shader invocation's loops after
/// 65535 of them, silently) and more work per branch.
void unrollInnermostLoops(gpu::GPUFuncOp kernel) {
  SmallVector<scf::ForOp> innermost;
  kernel.walk([&](scf::ForOp loop) {
    bool nested = false;
    loop.getBody()->walk([&](scf::ForOp) { nested = true; });
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(loop.getStep());
    if (!nested && lb && ub && step && (*ub - *lb) / *step >= 16)
      innermost.push_back(loop);
  });
  for (scf::ForOp loop : innermost)
    (void)loopUnrollByFactor(loop, 4);
}

struct VulkanDistributeInvocations
    : impl::VulkanDistributeInvocationsBase<VulkanDistributeInvocations> {
  void runOnOperation() override {
    gpu::GPUFuncOp kernel = getOperation();
    if (failed(spreadOverInvocations(kernel, invocationId(kernel),
                                     VulkanStrategy::of(kernel).invocations)))
      return signalPassFailure();
    accumulateInRegisters(kernel);
    unrollInnermostLoops(kernel);
    // For the executor to check against the device.
    int64_t bytes = 0;
    kernel.walk([&](memref::AllocOp alloc) {
      MemRefType type = alloc.getType();
      bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
    });
    kernel->setAttr(kWorkgroupMemoryAttr, Builder(&getContext()).getI64IntegerAttr(bytes));
  }
};

} // namespace

} // namespace bertc::vulkan
