//===- FuseOptimizer.cpp - The optimizer's kernels side by side -----------===//
//
// Clipping and AdamW give every parameter its own kernels: one sum of the
// squares of its gradient, one update. They are independent of each other,
// so runs of them become one dispatch each (horizontal fusion): the back
// end gives every root of such a dispatch its own range of the workgroup
// grid (backends/cpu/KernelCodegen.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/KernelKinds.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

namespace bertc {
#define GEN_PASS_DEF_FUSEOPTIMIZER
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// An optimizer dispatch whose results all come from one linalg op.
bool isSingleRootOptimizerDispatch(gr::DispatchOp dispatch) {
  if (bertc::kernelKindOf(dispatch.getBody()) != "optimizer")
    return false;
  auto yield = cast<gr::YieldOp>(dispatch.getBody().front().getTerminator());
  Operation *root = nullptr;
  for (Value v : yield.getValues()) {
    Operation *def = v.getDefiningOp();
    if (!isa_and_nonnull<linalg::LinalgOp>(def) || (root && def != root))
      return false;
    root = def;
  }
  return root != nullptr;
}

/// Whether `v` is available before `op`.
bool definedBefore(Value v, Operation *op) {
  Operation *def = v.getDefiningOp();
  return !def || (def->getBlock() == op->getBlock() && def->isBeforeInBlock(op));
}

struct FuseOptimizerPass : bertc::impl::FuseOptimizerBase<FuseOptimizerPass> {
  void runOnOperation() override {
    Block &body = getOperation().getBody().front();
    // Optimizer state has no operands: declared first, it is available to
    // every merged dispatch.
    SmallVector<gr::StateOp> states(body.getOps<gr::StateOp>());
    for (gr::StateOp s : llvm::reverse(states))
      s->moveBefore(&body.front());

    // Runs of consecutive optimizer dispatches, each independent of the
    // run before it and with every input available at the run's start.
    SmallVector<SmallVector<gr::DispatchOp>> groups;
    SmallVector<gr::DispatchOp> run;
    auto endRun = [&] {
      if (run.size() > 1)
        groups.push_back(run);
      run.clear();
    };
    for (auto dispatch : body.getOps<gr::DispatchOp>()) {
      if (!isSingleRootOptimizerDispatch(dispatch)) {
        endRun();
        continue;
      }
      bool joins = !run.empty() && llvm::all_of(dispatch.getInputs(), [&](Value in) {
        return definedBefore(in, run.front()) &&
               !llvm::is_contained(run, dyn_cast_or_null<gr::DispatchOp>(in.getDefiningOp()));
      });
      if (!joins)
        endRun();
      run.push_back(dispatch);
    }
    endRun();
    for (SmallVector<gr::DispatchOp> &group : groups)
      merge(group);
  }

  /// One dispatch, where the group's first was, doing the work of all.
  static void merge(MutableArrayRef<gr::DispatchOp> group) {
    llvm::SetVector<Value> inputs;
    SmallVector<Type> types;
    for (gr::DispatchOp d : group) {
      inputs.insert(d.getInputs().begin(), d.getInputs().end());
      types.append(d.getResultTypes().begin(), d.getResultTypes().end());
    }
    llvm::DenseMap<Value, unsigned> index;
    for (auto [i, v] : llvm::enumerate(inputs))
      index[v] = static_cast<unsigned>(i);
    OpBuilder b(group.front());
    auto merged = b.create<gr::DispatchOp>(group.front().getLoc(), types, inputs.getArrayRef());
    Block &body = merged.getBody().front();
    OpBuilder inner = OpBuilder::atBlockBegin(&body);
    SmallVector<Value> yielded;
    for (gr::DispatchOp d : group) {
      Block &old = d.getBody().front();
      IRMapping map;
      for (auto [arg, in] : llvm::zip(old.getArguments(), d.getInputs()))
        map.map(arg, body.getArgument(index.lookup(in)));
      for (Operation &op : old.without_terminator())
        inner.clone(op, map);
      for (Value v : cast<gr::YieldOp>(old.getTerminator()).getValues())
        yielded.push_back(map.lookup(v));
    }
    inner.create<gr::YieldOp>(merged.getLoc(), yielded);
    unsigned next = 0;
    for (gr::DispatchOp d : group) {
      d->replaceAllUsesWith(merged->getResults().slice(next, d->getNumResults()));
      next += d->getNumResults();
      d->erase();
    }
  }
};

} // namespace
