//===- GraphInputs.cpp - Runtime inputs that passes add -------------------===//
#include "passes/GraphInputs.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace bertc {

FailureOr<Value> getOrCreateInput(func::FuncOp fn, StringRef name, Type type) {
  Block &body = fn.getBody().front();
  for (auto input : body.getOps<graph::InputOp>())
    if (input.getName() == name) {
      if (input.getType() != type)
        return input.emitError("input '") << name << "' must have type " << type << " for training";
      return Value(input);
    }
  // After the inputs already at the top, so that they keep creation order.
  auto it = body.begin();
  while (it != body.end() && isa<graph::InputOp>(*it))
    ++it;
  OpBuilder b(&body, it);
  return Value(b.create<graph::InputOp>(fn.getLoc(), type, name));
}

} // namespace bertc
