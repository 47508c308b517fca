//===- Differentiate.cpp - Reverse-mode differentiation of graphs --------===//
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"
#include "runtime/Contract.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace bertc {
#define GEN_PASS_DEF_DIFFERENTIATE
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

struct DifferentiatePass : bertc::impl::DifferentiateBase<DifferentiatePass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto lossName = fn->getAttrOfType<StringAttr>("bertc.loss");
    if (!lossName)
      return;
    Block &body = fn.getBody().front();
    gr::OutputOp lossOutput;
    for (auto out : body.getOps<gr::OutputOp>())
      if (out.getName() == lossName.getValue())
        lossOutput = out;
    if (!lossOutput) {
      fn.emitError("bertc.loss names no output: '") << lossName.getValue() << "'";
      return signalPassFailure();
    }
    // The forward ops, before any gradient op is appended.
    SmallVector<Operation *> forward;
    for (Operation &op : body.without_terminator())
      forward.push_back(&op);

    // Only values computed from parameters need gradients.
    llvm::DenseSet<Value> needed;
    for (Operation *op : forward) {
      bool fromParameter =
          isa<gr::ParameterOp>(op) ||
          llvm::any_of(op->getOperands(), [&](Value v) { return needed.contains(v); });
      if (fromParameter)
        needed.insert(op->result_begin(), op->result_end());
    }

    OpBuilder b(body.getTerminator());
    llvm::DenseMap<Value, Value> grads;
    auto accumulate = [&](Value v, Value g) {
      auto [it, inserted] = grads.try_emplace(v, g);
      if (!inserted)
        it->second = b.create<gr::AddOp>(v.getLoc(), it->second.getType(), it->second, g);
    };
    Value loss = lossOutput.getValue();
    accumulate(loss,
               b.create<gr::ConstantOp>(loss.getLoc(), loss.getType(), b.getF64FloatAttr(1.0)));

    for (Operation *op : llvm::reverse(forward)) {
      SmallVector<Value> resultGrads;
      bool reached = false;
      for (Value r : op->getResults()) {
        Value g = grads.lookup(r);
        resultGrads.push_back(g);
        reached = reached || g;
      }
      if (!reached || isa<gr::ParameterOp, gr::InputOp, gr::ConstantOp>(op))
        continue;
      auto differentiable = dyn_cast<gr::DifferentiableOp>(op);
      if (!differentiable) {
        op->emitError("'") << op->getName() << "' is not differentiable yet";
        return signalPassFailure();
      }
      // A result no path reaches gets a zero gradient only if the op needs one.
      for (auto [i, g] : llvm::enumerate(resultGrads))
        if (!g) {
          auto t = cast<RankedTensorType>(op->getResult(i).getType());
          Value zero = b.create<gr::ConstantOp>(
              op->getLoc(), RankedTensorType::get({}, t.getElementType()), b.getF64FloatAttr(0.0));
          resultGrads[i] = b.create<gr::BroadcastOp>(op->getLoc(), t, zero,
                                                     b.getDenseI64ArrayAttr(t.getShape()));
        }
      SmallVector<Value> operandGrads;
      if (failed(differentiable.buildVJP(b, resultGrads, operandGrads)))
        return signalPassFailure();
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
        if (g && needed.contains(operand))
          accumulate(operand, g);
    }
    for (Operation *op : forward)
      if (auto param = dyn_cast<gr::ParameterOp>(op))
        if (Value g = grads.lookup(param.getResult()))
          b.create<gr::OutputOp>(param.getLoc(),
                                 bertc::contract::gradientName(param.getName().str()), g);
    // VJPs build every operand's gradient; those nobody needs go away.
    for (bool changed = true; changed;) {
      SmallVector<Operation *> dead;
      for (Operation &op : body.without_terminator())
        if (op.use_empty() && isMemoryEffectFree(&op))
          dead.push_back(&op);
      for (Operation *op : llvm::reverse(dead))
        op->erase();
      changed = !dead.empty();
    }
  }
};

} // namespace
