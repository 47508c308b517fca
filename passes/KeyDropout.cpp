//===- KeyDropout.cpp - Random keys for the dropouts of a training graph --===//
#include "passes/GraphInputs.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"
#include "runtime/Contract.h"

#include "mlir/IR/Builders.h"

namespace bertc {
#define GEN_PASS_DEF_KEYDROPOUT
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

struct KeyDropoutPass : bertc::impl::KeyDropoutBase<KeyDropoutPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn->hasAttr("bertc.loss"))
      return;
    SmallVector<gr::DropoutOp> dropouts(fn.getBody().front().getOps<gr::DropoutOp>());
    if (dropouts.empty())
      return;
    Builder b(fn.getContext());
    auto i32 = RankedTensorType::get({}, b.getI32Type());
    auto scaleType = RankedTensorType::get(
        {}, cast<RankedTensorType>(dropouts.front().getX().getType()).getElementType());
    FailureOr<Value> seed = bertc::getOrCreateInput(fn, bertc::contract::kSeedInput, i32);
    FailureOr<Value> step = bertc::getOrCreateInput(fn, bertc::contract::kStepInput, i32);
    FailureOr<Value> scale = bertc::getOrCreateInput(fn, bertc::contract::kDropoutInput, scaleType);
    if (failed(seed) || failed(step) || failed(scale))
      return signalPassFailure();
    int64_t site = 0;
    for (gr::DropoutOp op : dropouts) {
      if (!op.getKey().empty()) {
        op.emitError("dropout already has a key");
        return signalPassFailure();
      }
      op.setSite(++site);
      op.getKeyMutable().assign({*seed, *step, *scale});
    }
  }
};

} // namespace
