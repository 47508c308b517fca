//===- FuseHorizontal.cpp - Independent kernels side by side --------------===//
//
// Clipping and AdamW give every parameter its own kernels: one sum of the
// squares of its gradient, one update; the backward pass computes each
// bias's and LayerNorm's parameter gradients in kernels of their own. Such
// kernels are independent of each other, so runs of them become one
// dispatch (horizontal fusion): the back end gives every root of such a
// dispatch its own range of the workgroup grid
// (backends/common/TileWorkgroups.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/DispatchFusion.h"
#include "passes/GraphInputs.h"
#include "passes/MatmulOps.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include <climits>

namespace bertc {
#define GEN_PASS_DEF_FUSEHORIZONTAL
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// A dispatch whose results all come from one linalg op and that holds no
/// matmul (matmul kernels fill the machine alone; merged with others they
/// ran slower, measured on the BERT-mini step).
bool isCandidate(gr::DispatchOp dispatch) {
  if (!bertc::dispatchRoot(dispatch))
    return false;
  bool matmul = false;
  dispatch.getBody().walk([&](Operation *op) { matmul = matmul || bertc::isMatmul(op); });
  return !matmul;
}

/// With gradient buffers (bertc-accumulate-gradients), the ops that read a
/// buffer's new sum, directly or through others: the update (norm,
/// clipping, AdamW), which runs once per step after every micro-batch and
/// rank has added its gradients. No update dispatch merges with one before
/// that point.
llvm::DenseSet<Operation *> updateOps(Block &body) {
  llvm::DenseSet<Value> sums;
  for (auto assign : body.getOps<gr::AssignOp>())
    if (auto state = assign.getTarget().getDefiningOp<gr::StateOp>();
        state && state->hasAttr(bertc::kGradientBufferAttr))
      sums.insert(assign.getValue());
  llvm::DenseSet<Operation *> update;
  for (Operation &op : body)
    if (llvm::any_of(op.getOperands(), [&](Value v) {
          return sums.contains(v) || update.contains(v.getDefiningOp());
        }))
      update.insert(&op);
  return update;
}

/// Whether `v` is available before `op`.
bool definedBefore(Value v, Operation *op) {
  Operation *def = v.getDefiningOp();
  return !def || (def->getBlock() == op->getBlock() && def->isBeforeInBlock(op));
}

/// Dispatches to merge, and the one whose place the merged one takes.
struct Group {
  SmallVector<gr::DispatchOp> members;
  llvm::SetVector<Value> inputs;
  unsigned results = 0;
  gr::DispatchOp anchor;
  int firstUse = INT_MAX; ///< Position of the first use of any member's result.
  bool update = false;    ///< Members are of the update (updateOps).
};

struct FuseHorizontalPass : bertc::impl::FuseHorizontalBase<FuseHorizontalPass> {
  using FuseHorizontalBase::FuseHorizontalBase;

  /// Whether the run with `d` added binds no more than maxBindings buffers.
  bool withinBindings(const Group &run, gr::DispatchOp d) const {
    if (maxBindings == 0)
      return true;
    unsigned inputs = run.inputs.size();
    for (Value in : d.getInputs())
      inputs += !run.inputs.contains(in);
    return inputs + run.results + d->getNumResults() <= maxBindings;
  }

  void runOnOperation() override {
    Block &body = getOperation().getBody().front();
    // Optimizer state has no operands: declared first, it is available to
    // every merged dispatch.
    SmallVector<gr::StateOp> states(body.getOps<gr::StateOp>());
    for (gr::StateOp s : llvm::reverse(states))
      s->moveBefore(&body.front());

    // Runs of candidate dispatches, independent of each other, merged at
    // one of them (the anchor): every member's inputs are available before
    // the anchor and no member's result is used before it. A candidate that
    // cannot join starts a new run. Other dispatches in between stay.
    llvm::DenseMap<Operation *, int> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = static_cast<int>(i);
    auto firstUse = [&](gr::DispatchOp d) {
      int first = INT_MAX;
      for (Operation *user : d->getUsers())
        first = std::min(first, position.lookup(user));
      return first;
    };
    llvm::DenseSet<Operation *> update = updateOps(body);
    SmallVector<Group> groups;
    Group run;
    auto endRun = [&] {
      if (run.members.size() > 1)
        groups.push_back(run);
      run = Group();
    };
    for (auto dispatch : body.getOps<gr::DispatchOp>()) {
      if (!isCandidate(dispatch))
        continue;
      int here = position.lookup(dispatch);
      bool independent = llvm::none_of(dispatch.getInputs(), [&](Value in) {
        return llvm::is_contained(run.members,
                                  dyn_cast_or_null<gr::DispatchOp>(in.getDefiningOp()));
      });
      bool fitsAtAnchor = !run.members.empty() && llvm::all_of(dispatch.getInputs(), [&](Value in) {
        return definedBefore(in, run.anchor);
      }) && firstUse(dispatch) > position.lookup(run.anchor);
      // Or the run moves to this dispatch, if none of its results is used
      // before here.
      bool anchorMoves = !run.members.empty() && run.firstUse > here;
      bool samePhase = run.members.empty() || run.update == update.contains(dispatch);
      if (!independent || !samePhase || (!fitsAtAnchor && !anchorMoves) ||
          !withinBindings(run, dispatch))
        endRun();
      else if (!fitsAtAnchor)
        run.anchor = dispatch;
      if (run.members.empty()) {
        run.anchor = dispatch;
        run.update = update.contains(dispatch);
      }
      run.members.push_back(dispatch);
      run.inputs.insert(dispatch.getInputs().begin(), dispatch.getInputs().end());
      run.results += dispatch->getNumResults();
      run.firstUse = std::min(run.firstUse, firstUse(dispatch));
    }
    endRun();
    for (Group &group : groups)
      merge(group);
  }

  /// One dispatch, at the group's anchor, doing the work of all.
  static void merge(Group &group) {
    llvm::SetVector<Value> inputs;
    SmallVector<Type> types;
    for (gr::DispatchOp d : group.members) {
      inputs.insert(d.getInputs().begin(), d.getInputs().end());
      types.append(d.getResultTypes().begin(), d.getResultTypes().end());
    }
    llvm::DenseMap<Value, unsigned> index;
    for (auto [i, v] : llvm::enumerate(inputs))
      index[v] = static_cast<unsigned>(i);
    OpBuilder b(group.anchor);
    auto merged = b.create<gr::DispatchOp>(group.anchor.getLoc(), types, inputs.getArrayRef());
    Block &body = merged.getBody().front();
    OpBuilder inner = OpBuilder::atBlockBegin(&body);
    SmallVector<Value> yielded;
    for (gr::DispatchOp d : group.members) {
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
    for (gr::DispatchOp d : group.members) {
      d->replaceAllUsesWith(merged->getResults().slice(next, d->getNumResults()));
      next += d->getNumResults();
      d->erase();
    }
  }
};

} // namespace
