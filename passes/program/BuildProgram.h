//===- BuildProgram.h - Schedule and buffer plan of a graph -----*- C++ -*-===//
//
// Turns a function of dispatch regions into what the runtime executes, in
// three steps: the schedule (the ordered dispatches with their bindings, the
// tensors with their storage, in-place updates checked), the kernel table
// (passes/program/KernelTable.h: one kernel per distinct region, outlined as
// `func.func @kernel_N(tensors...) -> tensors` for a back end to compile)
// and the buffer plan (passes/program/BufferPlan.h: activations share an
// arena by liveness, views share their source's range).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_PROGRAM_BUILDPROGRAM_H
#define BERTC_PASSES_PROGRAM_BUILDPROGRAM_H

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

#endif // BERTC_PASSES_PROGRAM_BUILDPROGRAM_H
