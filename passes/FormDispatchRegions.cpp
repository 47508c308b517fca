//===- FormDispatchRegions.cpp - One graph.dispatch per linalg op ---------===//
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace bertc {
#define GEN_PASS_DEF_FORMDISPATCHREGIONS
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// Ops that are cheap to recompute and are cloned into the region that uses
/// them instead of being computed on their own.
bool isClonedIntoRegion(Operation *op) {
  if (isa<tensor::EmptyOp, arith::ConstantOp, tensor::ExtractSliceOp>(op))
    return true;
  // A reshaped empty tensor (canonicalization moves reshapes of fills there).
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
    return op->getOperand(0).getDefiningOp<tensor::EmptyOp>() != nullptr;
  // A fill that only initialises outputs (after CSE, possibly of several
  // ops): each region gets its own copy, so no kernel reads its initial
  // value from a buffer that every workgroup would have to copy.
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    return !fill->use_empty() && llvm::all_of(fill->getUses(), [](OpOperand &use) {
      auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
      return user && user.isDpsInit(&use);
    });
  }
  return false;
}

/// Collects `root` and the ops it needs that are cloned into its region, in
/// an order where each op comes after the ops it uses.
void collectRegionOps(Operation *op, llvm::SetVector<Operation *> &ops) {
  llvm::SetVector<Value> used(op->getOperands().begin(), op->getOperands().end());
  // Values that nested bodies capture (constants hoisted by CSE, tables).
  for (Region &region : op->getRegions())
    getUsedValuesDefinedAbove(region, used);
  for (Value v : used)
    if (Operation *def = v.getDefiningOp(); def && isClonedIntoRegion(def) && !ops.contains(def))
      collectRegionOps(def, ops);
  ops.insert(op);
}

struct FormDispatchRegionsPass : bertc::impl::FormDispatchRegionsBase<FormDispatchRegionsPass> {
  void runOnOperation() override {
    // Roots: the function's own linalg ops and the graph ops the back ends
    // lower in their own kernels (an attention, a scatter).
    SmallVector<Operation *> roots;
    for (Operation &op : getOperation().getBody().front()) {
      bool kernel = op.hasTrait<gr::OpTrait::LoweredInKernel>();
      if (kernel || (isa<linalg::LinalgOp>(op) && !isClonedIntoRegion(&op)))
        roots.push_back(&op);
    }
    for (Operation *root : roots)
      formRegion(root);
    // What was cloned into regions is now dead outside; erasing a fill can
    // leave its constant dead, so sweep until nothing changes.
    for (bool changed = true; changed;) {
      SmallVector<Operation *> dead;
      for (Operation &op : getOperation().getBody().front())
        if (op.use_empty() &&
            isa<tensor::EmptyOp, arith::ConstantOp, tensor::ExtractSliceOp, linalg::FillOp,
                tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
          dead.push_back(&op);
      for (Operation *op : dead)
        op->erase();
      changed = !dead.empty();
    }
  }

  void formRegion(Operation *root) {
    llvm::SetVector<Operation *> ops;
    collectRegionOps(root, ops);
    // The region's inputs: values from outside that the ops use.
    // Values used inside nested bodies (a table read by tensor.extract) count.
    llvm::SetVector<Value> inputs;
    auto addInput = [&](Value v) {
      if (!v.getDefiningOp() || !ops.contains(v.getDefiningOp()))
        inputs.insert(v);
    };
    for (Operation *op : ops) {
      for (Value v : op->getOperands())
        addInput(v);
      llvm::SetVector<Value> captured;
      for (Region &region : op->getRegions())
        getUsedValuesDefinedAbove(region, captured);
      for (Value v : captured)
        addInput(v);
    }

    OpBuilder b(root);
    auto dispatch =
        b.create<gr::DispatchOp>(root->getLoc(), root->getResultTypes(), inputs.getArrayRef());
    Block &body = dispatch.getBody().front();
    IRMapping map;
    for (auto [input, arg] : llvm::zip(inputs, body.getArguments()))
      map.map(input, arg);
    OpBuilder inner = OpBuilder::atBlockBegin(&body);
    for (Operation *op : ops)
      inner.clone(*op, map);
    SmallVector<Value> yielded;
    for (Value r : root->getResults())
      yielded.push_back(map.lookup(r));
    inner.create<gr::YieldOp>(root->getLoc(), yielded);
    root->replaceAllUsesWith(dispatch.getResults());
    root->erase();
    giveEachInitItsOwnFill(body);
  }

  /// CSE merges equal fills and empty tensors, so one op may get the same
  /// value as two of its outputs' initial values; bufferization would then
  /// give both outputs one buffer. Each such init gets a fill (or empty
  /// tensor) of its own.
  static void giveEachInitItsOwnFill(Block &body) {
    body.walk([](linalg::LinalgOp op) {
      llvm::SmallPtrSet<Value, 4> seen;
      for (OpOperand &init : op.getDpsInitsMutable()) {
        Operation *def = init.get().getDefiningOp();
        if (!isa_and_nonnull<linalg::FillOp, tensor::EmptyOp>(def) ||
            seen.insert(init.get()).second)
          continue;
        // A fill gets a fresh empty tensor too: empty-tensor elimination
        // would otherwise still map both fills onto one output buffer.
        OpBuilder b(op);
        IRMapping map;
        if (auto fill = dyn_cast<linalg::FillOp>(def))
          if (auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>())
            map.map(empty.getResult(), b.clone(*empty)->getResult(0));
        init.set(b.clone(*def, map)->getResult(0));
      }
    });
  }
};

} // namespace
