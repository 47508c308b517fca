//===- GraphSummary.h - Counts that describe a graph ------------*- C++ -*-===//
#ifndef BERTC_PASSES_GRAPHSUMMARY_H
#define BERTC_PASSES_GRAPHSUMMARY_H

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <map>
#include <string>

namespace bertc {

struct GraphSummary {
  int64_t parameterElements = 0; ///< Each parameter counted once, tied or not.
  int64_t parameterTensors = 0;
  int64_t parameterBytes = 0;
  int64_t tensors = 0;                ///< Tensor values the graph computes.
  std::map<std::string, int64_t> ops; ///< Op counts by name, e.g. "graph.matmul".
};

GraphSummary summarizeGraph(mlir::ModuleOp module);

/// Prints `parameters: N`, `tensors: N` and one `op <name>: N` line per kind.
void printGraphSummary(const GraphSummary &summary, llvm::raw_ostream &os);

} // namespace bertc

#endif // BERTC_PASSES_GRAPHSUMMARY_H
