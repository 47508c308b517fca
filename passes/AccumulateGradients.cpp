//===- AccumulateGradients.cpp - Gradients summed over micro-batches ------===//
#include "passes/GraphInputs.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"
#include "runtime/Contract.h"

#include "mlir/IR/Builders.h"

namespace bertc {
#define GEN_PASS_DEF_ACCUMULATEGRADIENTS
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

struct AccumulateGradientsPass : bertc::impl::AccumulateGradientsBase<AccumulateGradientsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn->hasAttr("bertc.loss"))
      return;
    SmallVector<gr::OutputOp> grads;
    for (auto out : fn.getBody().front().getOps<gr::OutputOp>())
      if (bertc::contract::isGradient(out.getName()))
        grads.push_back(out);
    if (grads.empty())
      return;
    Type element = cast<RankedTensorType>(grads.front().getValue().getType()).getElementType();
    FailureOr<Value> keep = bertc::getOrCreateInput(fn, bertc::contract::kAccumulateInput,
                                                    RankedTensorType::get({}, element));
    if (failed(keep))
      return signalPassFailure();
    for (gr::OutputOp out : grads) {
      Value g = out.getValue();
      auto type = cast<RankedTensorType>(g.getType());
      OpBuilder b(out);
      Location loc = out.getLoc();
      std::string name = std::string(bertc::contract::kGradientBufferPrefix) +
                         out.getName().drop_front(bertc::contract::kGradientPrefix.size()).str();
      auto acc = b.create<gr::StateOp>(loc, type, name);
      acc->setAttr(bertc::kGradientBufferAttr, b.getUnitAttr());
      Value kept = b.create<gr::MulOp>(loc, type, acc, *keep);
      Value sum = b.create<gr::AddOp>(loc, type, g, kept);
      b.create<gr::AssignOp>(loc, acc, sum);
      out.getValueMutable().assign(sum);
    }
  }
};

} // namespace
