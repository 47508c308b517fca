//===- StepLossCounts.cpp - Cross-entropies over the whole step's rows ----===//
#include "passes/GraphInputs.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"
#include "runtime/Contract.h"

#include "mlir/IR/Builders.h"

namespace bertc {
#define GEN_PASS_DEF_STEPLOSSCOUNTS
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

struct StepLossCountsPass : bertc::impl::StepLossCountsBase<StepLossCountsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn->hasAttr("bertc.loss"))
      return;
    SmallVector<gr::CrossEntropyOp> losses(fn.getBody().front().getOps<gr::CrossEntropyOp>());
    Builder b(fn.getContext());
    for (gr::CrossEntropyOp loss : losses) {
      auto labels = loss.getLabels().getDefiningOp<gr::InputOp>();
      if (loss.getCount() || !labels)
        continue;
      auto logits = cast<RankedTensorType>(loss.getLogits().getType());
      DictionaryAttr counted = b.getDictionaryAttr(
          {b.getNamedAttr("labels", labels.getNameAttr()),
           b.getNamedAttr("ignore_index", loss.getIgnoreIndexAttr()),
           b.getNamedAttr("classes", b.getI64IntegerAttr(logits.getShape().back()))});
      FailureOr<Value> rows =
          bertc::getOrCreateInput(fn, bertc::contract::labelledRowsName(labels.getName()),
                                  RankedTensorType::get({}, logits.getElementType()));
      if (failed(rows))
        return signalPassFailure();
      Operation *input = rows->getDefiningOp();
      if (auto known = input->getAttrOfType<DictionaryAttr>(bertc::kLabelledRowsAttr);
          known && known != counted) {
        loss.emitError("two cross-entropies count the labels '")
            << labels.getName() << "' differently (ignore_index or classes)";
        return signalPassFailure();
      }
      input->setAttr(bertc::kLabelledRowsAttr, counted);
      loss.getCountMutable().assign(*rows);
    }
  }
};

} // namespace
