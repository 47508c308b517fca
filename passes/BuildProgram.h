//===- BuildProgram.h - Schedule and buffer plan of a graph -----*- C++ -*-===//
//
// Turns a function of dispatch regions into what the runtime executes: the
// ordered dispatches with their bindings, a buffer plan in which activations
// share an arena by liveness (views share their source's range), and one
// kernel per distinct region, outlined as `func.func @kernel_N(tensors...)
// -> tensors` for a back end to compile. Twelve identical encoder layers
// give one kernel per distinct region, each dispatched twelve times.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_BUILDPROGRAM_H
#define BERTC_PASSES_BUILDPROGRAM_H

#include "runtime/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace bertc {

struct ProgramPlan {
  rt::Program program;                       ///< Grids are 1x1x1 until a back end sets them.
  mlir::OwningOpRef<mlir::ModuleOp> kernels; ///< kernel_N, in kernel-table order.
};

/// `fn` holds graph boundary ops, graph.dispatch and tensor reshapes only.
mlir::FailureOr<ProgramPlan> buildProgram(mlir::func::FuncOp fn);

} // namespace bertc

#endif // BERTC_PASSES_BUILDPROGRAM_H
