//===- MixedPrecision.cpp - bf16 matmul operands, f32 elsewhere -----------===//
#include "passes/Passes.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace bertc {
#define GEN_PASS_DEF_MIXEDPRECISION
#include "passes/Passes.h.inc"
} // namespace bertc

using namespace mlir;
namespace gr = bertc::graph;

namespace {

RankedTensorType withElement(Type t, Type element) {
  return cast<RankedTensorType>(t).clone(element);
}

struct MixedPrecisionPass : bertc::impl::MixedPrecisionBase<MixedPrecisionPass> {
  /// `v` (f32) as bf16: the parameter's copy, a reshape or transpose of
  /// its operand as bf16, or a conversion right after its definition.
  Value toBF16(Value v) {
    if (Value known = bf16Of.lookup(v))
      return known;
    Type bf16 = BFloat16Type::get(v.getContext());
    Operation *def = v.getDefiningOp();
    OpBuilder b(v.getContext());
    Value result;
    if (auto param = dyn_cast_or_null<gr::ParameterOp>(def)) {
      b.setInsertionPointAfter(def);
      result = b.create<gr::ParameterCopyOp>(def->getLoc(), withElement(v.getType(), bf16), param);
      copies.push_back({param, result});
    } else if (def && isa<gr::ReshapeOp, gr::TransposeOp>(def)) {
      Value x = toBF16(def->getOperand(0));
      b.setInsertionPointAfter(def);
      Operation *layout = b.clone(*def);
      layout->setOperand(0, x);
      layout->getResult(0).setType(withElement(v.getType(), bf16));
      result = layout->getResult(0);
    } else {
      if (def)
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
      result = b.create<gr::ConvertOp>(v.getLoc(), withElement(v.getType(), bf16), v);
    }
    bf16Of[v] = result;
    return result;
  }

  void runOnOperation() override {
    bf16Of.clear();
    copies.clear();
    Block &body = getOperation().getBody().front();
    SmallVector<gr::MatmulOp> matmuls;
    for (auto m : body.getOps<gr::MatmulOp>())
      if (cast<RankedTensorType>(m.getA().getType()).getElementType().isF32())
        matmuls.push_back(m);
    for (gr::MatmulOp m : matmuls) {
      Value a = toBF16(m.getA()), b = toBF16(m.getB());
      m.getAMutable().assign(a);
      m.getBMutable().assign(b);
    }
    // Each copy follows its parameter's update.
    for (auto [param, copy] : copies)
      for (Operation *user : param->getUsers())
        if (auto assign = dyn_cast<gr::AssignOp>(user); assign && assign.getTarget() == param) {
          OpBuilder b(assign->getBlock(), std::next(assign->getIterator()));
          Value next = b.create<gr::ConvertOp>(assign.getLoc(), copy.getType(), assign.getValue());
          b.create<gr::AssignOp>(assign.getLoc(), copy, next);
          break;
        }
  }

  DenseMap<Value, Value> bf16Of;
  SmallVector<std::pair<gr::ParameterOp, Value>> copies;
};

} // namespace
