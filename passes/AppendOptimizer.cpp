//===- AppendOptimizer.cpp - Clipping and AdamW after the gradients -------===//
#include "passes/GraphInputs.h"
#include "passes/KernelKinds.h"
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace bertc {
#define GEN_PASS_DEF_APPENDOPTIMIZER
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

/// BERT's rule: no weight decay on biases and LayerNorm weights.
bool decays(StringRef name) { return !name.ends_with(".bias") && !name.contains("LayerNorm"); }

struct AppendOptimizerPass : bertc::impl::AppendOptimizerBase<AppendOptimizerPass> {
  using AppendOptimizerBase::AppendOptimizerBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (!fn->hasAttr("bertc.loss"))
      return;
    Block &body = fn.getBody().front();
    llvm::StringMap<Value> gradOf;
    for (auto out : body.getOps<gr::OutputOp>())
      if (bertc::contract::isGradient(out.getName()))
        gradOf[out.getName().drop_front(5)] = out.getValue();
    SmallVector<std::pair<gr::ParameterOp, Value>> trained;
    for (auto param : body.getOps<gr::ParameterOp>())
      if (Value g = gradOf.lookup(param.getName()))
        trained.push_back({param, g});
    if (trained.empty()) {
      fn.emitError("nothing to optimise: no parameter has a gradient (run bertc-differentiate "
                   "first)");
      return signalPassFailure();
    }
    Type element = cast<RankedTensorType>(trained.front().first.getType()).getElementType();
    auto scalar = RankedTensorType::get({}, element);
    FailureOr<Value> lr = bertc::getOrCreateInput(fn, bertc::contract::kLearningRateInput, scalar);
    FailureOr<Value> step =
        bertc::getOrCreateInput(fn, bertc::contract::kStepInput,
                                RankedTensorType::get({}, IntegerType::get(fn.getContext(), 32)));
    if (failed(lr) || failed(step))
      return signalPassFailure();

    OpBuilder b(body.getTerminator());
    // The global sum of squares, read by every update. A gradient of rank
    // two or more is summed over its rows first (a reduction the back end
    // splits among workgroups by rows: the word embeddings' gradient is
    // most of the model's), then over those row sums. All row sums come
    // before all sums to a scalar, so that each set, independent within
    // itself, runs as one horizontally fused kernel.
    SmallVector<std::pair<Location, Value>> squares;
    for (auto [param, g] : trained) {
      auto t = cast<RankedTensorType>(g.getType());
      Location loc = bertc::withKernelKind(param.getLoc(), bertc::contract::KernelKind::Optimizer);
      Value sq = b.create<gr::MulOp>(loc, t, g, g);
      if (t.getRank() >= 2) {
        SmallVector<int64_t> inner;
        for (int64_t i = 1; i < t.getRank(); ++i)
          inner.push_back(i);
        auto rowsType = RankedTensorType::get({t.getDimSize(0)}, t.getElementType());
        sq = b.create<gr::SumOp>(loc, rowsType, sq, b.getDenseI64ArrayAttr(inner));
      }
      squares.push_back({loc, sq});
    }
    Value sumsq;
    for (auto [loc, sq] : squares) {
      SmallVector<int64_t> all;
      for (int64_t i = 0; i < cast<RankedTensorType>(sq.getType()).getRank(); ++i)
        all.push_back(i);
      Value s = b.create<gr::SumOp>(loc, scalar, sq, b.getDenseI64ArrayAttr(all));
      sumsq = sumsq ? b.create<gr::AddOp>(loc, scalar, sumsq, s).getResult() : s;
    }
    for (auto [param, g] : trained) {
      Location ploc = bertc::withKernelKind(param.getLoc(), bertc::contract::KernelKind::Optimizer);
      Type t = param.getType();
      Value m = b.create<gr::StateOp>(ploc, t, ("optimizer.adam_m." + param.getName()).str());
      Value v = b.create<gr::StateOp>(ploc, t, ("optimizer.adam_v." + param.getName()).str());
      auto update = b.create<gr::AdamWOp>(
          ploc, TypeRange{t, t, t}, param, g, m, v, sumsq, *lr, *step, b.getF64FloatAttr(beta1),
          b.getF64FloatAttr(beta2), b.getF64FloatAttr(epsilon),
          b.getF64FloatAttr(decays(param.getName()) ? double(weightDecay) : 0.0),
          b.getF64FloatAttr(maxNorm), b.getBoolAttr(biasCorrection));
      b.create<gr::AssignOp>(ploc, param, update.getNewParam());
      b.create<gr::AssignOp>(ploc, m, update.getNewM());
      b.create<gr::AssignOp>(ploc, v, update.getNewV());
    }
  }
};

} // namespace
