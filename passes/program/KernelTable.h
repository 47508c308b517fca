//===- KernelTable.h - One kernel per distinct dispatch body ----*- C++ -*-===//
//
// Twelve identical encoder layers give one kernel per distinct region, each
// dispatched twelve times: a dispatch whose body is structurally equivalent
// to an earlier one (the same ops, attributes and types, its values in the
// same places; locations aside) reuses that one's kernel.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_PROGRAM_KERNELTABLE_H
#define BERTC_PASSES_PROGRAM_KERNELTABLE_H

#include "dialects/graph/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace bertc {

class KernelTable {
public:
  /// Kernels are outlined at the end of `kernels`.
  explicit KernelTable(mlir::ModuleOp kernels) : kernels_(kernels) {}

  /// The index of `dispatch`'s kernel: an equivalent one's, or a new
  /// `func.func @kernel_N(inputs) -> results` outlined from its body.
  int kernelFor(graph::DispatchOp dispatch);

  /// Kernel names and kinds of work, in kernel order.
  const std::vector<std::string> &names() const { return names_; }
  const std::vector<std::string> &kinds() const { return kinds_; }
  /// Each kernel's matmul floating-point operations per dispatch.
  const std::vector<int64_t> &matmulFlops() const { return matmulFlops_; }

private:
  mlir::ModuleOp kernels_;
  std::vector<mlir::func::FuncOp> functions_;
  std::vector<std::string> names_, kinds_;
  std::vector<int64_t> matmulFlops_;
  /// Structural hash of a kernel -> the kernels with that hash.
  llvm::DenseMap<llvm::hash_code, std::vector<int>> byHash_;
};

/// Whether two functions have structurally equivalent bodies (locations
/// aside).
bool equivalentKernels(mlir::func::FuncOp a, mlir::func::FuncOp b);

} // namespace bertc

#endif // BERTC_PASSES_PROGRAM_KERNELTABLE_H
