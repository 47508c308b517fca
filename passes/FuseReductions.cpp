//===- FuseReductions.cpp - Row reductions into the kernel that uses them -===//
//
// LayerNorm, softmax and cross-entropy, forward and backward, reduce each
// row (mean, variance, max, sum of exponentials, ...) and then use the
// result on the same row. Their reductions and the elementwise work between
// them are merged into the dispatch that consumes them, so that each row is
// reduced and used inside one workgroup: the back end tiles such a kernel
// by rows only (chooseWorkgroupTiles, backends/common/Strategy.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/DispatchFusion.h"
#include "passes/Passes.h"

namespace bertc {
#define GEN_PASS_DEF_FUSEREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// The number of leading parallel loops of `op` when all its other loops are
/// reductions (all of them for elementwise work), else -1.
int leadingParallelLoops(linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  int parallel = 0;
  while (parallel < static_cast<int>(iterators.size()) &&
         iterators[parallel] == utils::IteratorType::parallel)
    ++parallel;
  for (size_t i = parallel; i < iterators.size(); ++i)
    if (iterators[i] != utils::IteratorType::reduction)
      return -1;
  return parallel;
}

/// Whether the dispatch's root has reduction loops.
bool reduces(gr::DispatchOp dispatch) {
  linalg::LinalgOp root = bertc::dispatchRoot(dispatch);
  return root && root.getNumReductionLoops() > 0;
}

/// Whether `producer` can join `consumer`: both computed by one
/// linalg.generic each; every use of the producer's results inside the
/// consumer reads, for a reduction, one value per row of the user's leading
/// (parallel) loops, and for elementwise work, the same elements in the
/// same order, so no workgroup tile recomputes another's rows.
bool canMergeReduction(gr::DispatchOp producer, gr::DispatchOp consumer) {
  auto p = dyn_cast_or_null<linalg::GenericOp>(bertc::dispatchRoot(producer).getOperation());
  auto c = dyn_cast_or_null<linalg::GenericOp>(bertc::dispatchRoot(consumer).getOperation());
  if (!p || !c || p->getNumResults() != producer->getNumResults())
    return false;
  int rows = leadingParallelLoops(p);
  if (rows < 0)
    return false;
  bool reduction = rows < static_cast<int>(p.getNumLoops());
  // A reduction to one value leaves the consumer no rows to split among
  // workgroups: it stays a kernel of its own.
  if (reduction && rows == 0)
    return false;
  // Results indexed by the leading (parallel) loops, in order.
  for (OpOperand &init : p.getDpsInitsMutable()) {
    AffineMap map = p.getMatchingIndexingMap(&init);
    if (static_cast<int>(map.getNumResults()) != rows)
      return false;
    for (int i = 0; i < rows; ++i)
      if (map.getResult(i) != getAffineDimExpr(i, p.getContext()))
        return false;
  }
  Block &body = consumer.getBody().front();
  for (auto [arg, in] : llvm::zip(body.getArguments(), consumer.getInputs())) {
    if (in.getDefiningOp() != producer.getOperation())
      continue;
    for (OpOperand &use : arg.getUses()) {
      auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
      if (!user || !user.isDpsInput(&use))
        return false;
      if (reduction ? bertc::rowPrefixOf(user, arg) != rows
                    : !user.getMatchingIndexingMap(&use).isIdentity())
        return false;
    }
  }
  return true;
}

struct FuseReductionsPass : bertc::impl::FuseReductionsBase<FuseReductionsPass> {
  using FuseReductionsBase::FuseReductionsBase;

  void runOnOperation() override {
    // A reduction is recomputed by each kernel that uses it (they read its
    // input anyway); elementwise work joins a sole consumer only.
    bertc::mergeIntoConsumers(getOperation().getBody().front(), canMergeReduction, reduces,
                              maxBindings);
  }
};

} // namespace
