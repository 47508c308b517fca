//===- DispatchFusion.cpp - Merging a producer dispatch into its consumer -===//
#include "passes/DispatchFusion.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
namespace gr = bertc::graph;

namespace bertc {

linalg::LinalgOp dispatchRoot(gr::DispatchOp dispatch) {
  auto yield = cast<gr::YieldOp>(dispatch.getBody().front().getTerminator());
  Operation *root = nullptr;
  for (Value v : yield.getValues()) {
    Operation *def = v.getDefiningOp();
    if (!isa_and_nonnull<linalg::LinalgOp>(def) || (root && def != root))
      return nullptr;
    root = def;
  }
  return dyn_cast_or_null<linalg::LinalgOp>(root);
}

SmallVector<gr::DispatchOp> consumers(gr::DispatchOp producer) {
  llvm::SetVector<gr::DispatchOp> users;
  for (Operation *user : producer->getUsers()) {
    auto d = dyn_cast<gr::DispatchOp>(user);
    if (!d)
      return {};
    users.insert(d);
  }
  return SmallVector<gr::DispatchOp>(users.begin(), users.end());
}

void mergeIntoConsumer(gr::DispatchOp producer, gr::DispatchOp consumer) {
  // The merged inputs: the consumer's, less the producer's results, plus
  // the producer's.
  llvm::SetVector<Value> inputs;
  for (Value v : consumer.getInputs())
    if (v.getDefiningOp() != producer.getOperation())
      inputs.insert(v);
  inputs.insert(producer.getInputs().begin(), producer.getInputs().end());

  OpBuilder b(consumer);
  auto merged =
      b.create<gr::DispatchOp>(consumer.getLoc(), consumer.getResultTypes(), inputs.getArrayRef());
  Block &body = merged.getBody().front();
  llvm::DenseMap<Value, Value> argOf;
  for (auto [v, arg] : llvm::zip(inputs, body.getArguments()))
    argOf[v] = arg;
  OpBuilder inner = OpBuilder::atBlockBegin(&body);
  IRMapping map;
  Block &from = producer.getBody().front();
  for (auto [arg, in] : llvm::zip(from.getArguments(), producer.getInputs()))
    map.map(arg, argOf.lookup(in));
  for (Operation &op : from.without_terminator())
    inner.clone(op, map);
  auto producerYield = cast<gr::YieldOp>(from.getTerminator());
  Block &to = consumer.getBody().front();
  for (auto [arg, in] : llvm::zip(to.getArguments(), consumer.getInputs())) {
    if (in.getDefiningOp() == producer.getOperation())
      map.map(arg, map.lookup(producerYield.getValues()[cast<OpResult>(in).getResultNumber()]));
    else
      map.map(arg, argOf.lookup(in));
  }
  for (Operation &op : to)
    inner.clone(op, map);
  consumer->replaceAllUsesWith(merged->getResults());
  consumer->erase();
  if (producer->use_empty())
    producer->erase();
}

unsigned bindingsAfterMerge(gr::DispatchOp producer, gr::DispatchOp consumer) {
  llvm::SmallPtrSet<Value, 16> inputs(producer.getInputs().begin(), producer.getInputs().end());
  for (Value in : consumer.getInputs())
    if (in.getDefiningOp() != producer)
      inputs.insert(in);
  return inputs.size() + consumer->getNumResults();
}

void mergeIntoConsumers(Block &body, function_ref<bool(gr::DispatchOp, gr::DispatchOp)> canMerge,
                        function_ref<bool(gr::DispatchOp)> mayDuplicate, unsigned maxBindings) {
  // A merge replaces its consumers: look again after each.
  for (bool changed = true; changed;) {
    changed = false;
    SmallVector<gr::DispatchOp> dispatches(body.getOps<gr::DispatchOp>());
    for (gr::DispatchOp producer : llvm::reverse(dispatches)) {
      SmallVector<gr::DispatchOp> users = consumers(producer);
      if (users.empty() || (users.size() > 1 && !mayDuplicate(producer)) ||
          !llvm::all_of(users, [&](gr::DispatchOp c) {
            return canMerge(producer, c) &&
                   (maxBindings == 0 || bindingsAfterMerge(producer, c) <= maxBindings);
          }))
        continue;
      for (gr::DispatchOp consumer : users)
        mergeIntoConsumer(producer, consumer);
      changed = true;
      break;
    }
  }
}

int rowPrefixOf(linalg::LinalgOp op, Value value) {
  int prefix = -1;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (OpOperand &use : op->getOpOperands()) {
    if (use.get() != value)
      continue;
    AffineMap map = op.getMatchingIndexingMap(&use);
    int k = static_cast<int>(map.getNumResults());
    for (int i = 0; i < k; ++i)
      if (map.getResult(i) != getAffineDimExpr(i, op.getContext()) ||
          iterators[i] != utils::IteratorType::parallel)
        return -1;
    if (prefix >= 0 && prefix != k)
      return -1;
    prefix = k;
  }
  return prefix;
}

} // namespace bertc
