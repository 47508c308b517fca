//===- KernelKinds.h - The kind of work of each kernel ----------*- C++ -*-===//
//
// `bertc bench` reports time per kind of kernel. An op's kind comes from
// the graph op it was built from (`KernelKindOp`), carried in its location
// as a `NameLoc` "kind:<kind>" around the source position, so that it
// survives differentiation, lowering and fusion without any pass knowing.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_KERNELKINDS_H
#define BERTC_PASSES_KERNELKINDS_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Region.h"
#include "llvm/ADT/StringRef.h"

namespace bertc {

/// Every kind, in rank order: a kernel holding ops of several kinds has the
/// first (a matmul with its bias and GELU is a matmul kernel). Ops without a
/// kind are "elementwise", which also covers reductions and data movement.
llvm::ArrayRef<llvm::StringRef> kernelKinds();

/// `loc` tagged with `kind`, replacing any kind it had.
mlir::Location withKernelKind(mlir::Location loc, llvm::StringRef kind);
/// The kind tagged in `loc`, or "elementwise".
llvm::StringRef kernelKindOf(mlir::Location loc);
/// `loc` without its kind tag (for diagnostics).
mlir::Location withoutKernelKind(mlir::Location loc);
/// The kind of the kernel made of the ops in `region`.
llvm::StringRef kernelKindOf(mlir::Region &region);

} // namespace bertc

#endif // BERTC_PASSES_KERNELKINDS_H
