//===- GraphInputs.h - Runtime inputs that passes add -----------*- C++ -*-===//
#ifndef BERTC_PASSES_GRAPHINPUTS_H
#define BERTC_PASSES_GRAPHINPUTS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace bertc {

/// On a `graph.input` that bertc-step-loss-counts added: the labels it
/// counts, `{labels, ignore_index, classes}`, which the program records.
constexpr llvm::StringLiteral kLabelledRowsAttr = "bertc.labelled_rows";

/// On a `graph.state` that bertc-accumulate-gradients added: a gradient
/// buffer, persistent between the runs of a step but not saved.
constexpr llvm::StringLiteral kGradientBufferAttr = "bertc.gradient_buffer";

/// The `graph.input` named `name` of `fn`, created with `type` after the
/// inputs at the top of its body if there is none yet. Fails (with an error at the existing
/// input) if an input of that name has another type.
mlir::FailureOr<mlir::Value> getOrCreateInput(mlir::func::FuncOp fn, llvm::StringRef name,
                                              mlir::Type type);

} // namespace bertc

#endif // BERTC_PASSES_GRAPHINPUTS_H
