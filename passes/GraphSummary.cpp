//===- GraphSummary.cpp - Counts that describe a graph --------------------===//
#include "passes/GraphSummary.h"

#include "dialects/graph/GraphOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace bertc {

GraphSummary summarizeGraph(ModuleOp module) {
  GraphSummary s;
  module.walk([&](Operation *op) {
    if (op == module.getOperation() || op->hasTrait<OpTrait::IsTerminator>() ||
        isa<FunctionOpInterface>(op))
      return;
    ++s.ops[op->getName().getStringRef().str()];
    for (Value r : op->getResults())
      if (isa<RankedTensorType>(r.getType()))
        ++s.tensors;
    if (auto p = dyn_cast<graph::ParameterOp>(op)) {
      auto t = cast<RankedTensorType>(p.getType());
      ++s.parameterTensors;
      s.parameterElements += t.getNumElements();
      s.parameterBytes += t.getNumElements() * t.getElementTypeBitWidth() / 8;
    }
  });
  return s;
}

void printGraphSummary(const GraphSummary &s, llvm::raw_ostream &os) {
  os << "parameters: " << s.parameterElements << "\n";
  os << "parameter_tensors: " << s.parameterTensors << "\n";
  os << "parameter_bytes: " << s.parameterBytes << "\n";
  os << "tensors: " << s.tensors << "\n";
  for (const auto &[name, count] : s.ops)
    os << "op " << name << ": " << count << "\n";
}

} // namespace bertc
