//===- MLIRGen.h - From the model AST to the graph dialect ------*- C++ -*-===//
//
// MLIRGen evaluates a checked model for one preset and task: constants are
// computed, functions inlined, loops unrolled and every tensor expression
// becomes a graph-dialect op whose location is its place in the model file.
// Shape errors come from the ops' own type inference and are reported at the
// expression that caused them, with "called from" notes through inlined calls.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_FRONTEND_MLIRGEN_H
#define BERTC_FRONTEND_MLIRGEN_H

#include "frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bertc::frontend {

/// A value for one of the model's constants from outside the model file.
struct ConstantSetting {
  std::string name, value;
  /// Where it came from, for errors; empty: `--set NAME=VALUE`.
  std::string origin;
};

struct GraphOptions {
  std::string preset; ///< Empty: the model's own values.
  std::string task;
  std::vector<ConstantSetting> sets; ///< `--hf-config`'s, then `--set`'s, in order.
  std::optional<int64_t> batch;                          ///< Binds `dim batch`.
  std::optional<int64_t> seq;                            ///< Binds `dim seq`.
  int64_t maxOps = 2000000;                              ///< Larger graphs are refused.
  bool f64 = false; ///< Build every f32 tensor of the model as f64 (gradient checks).
};

/// Builds the graph of `options.task`. On error, reports through the
/// context's diagnostic handler (file:line:col) and returns null. The
/// context must have the graph and func dialects loaded.
mlir::OwningOpRef<mlir::ModuleOp> buildGraph(mlir::MLIRContext &context, const SourceFile &file,
                                             const Module &module, const GraphOptions &options);

} // namespace bertc::frontend

#endif // BERTC_FRONTEND_MLIRGEN_H
