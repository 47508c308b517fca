//===- KernelKinds.h - The kind of work of each kernel ----------*- C++ -*-===//
//
// `bertc bench` reports time per kind of kernel. An op's kind comes from
// the graph op it was built from (`KernelKindOp`), carried in its location
// as a `NameLoc` "kind:<kind>" around the source position, so that it
// survives differentiation, lowering and fusion without any pass knowing.
// The kinds are the compiler-runtime contract's (runtime/Contract.h).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_KERNELKINDS_H
#define BERTC_PASSES_KERNELKINDS_H

#include "runtime/Contract.h"

#include "mlir/IR/Location.h"
#include "mlir/IR/Region.h"

namespace bertc {

/// `loc` tagged with `kind`, replacing any kind it had.
mlir::Location withKernelKind(mlir::Location loc, contract::KernelKind kind);
/// The kind tagged in `loc`; elementwise without a tag.
contract::KernelKind kernelKindOf(mlir::Location loc);
/// `loc` without its kind tag (for diagnostics).
mlir::Location withoutKernelKind(mlir::Location loc);
/// The kind of the kernel made of the ops in `region`: the first, in rank
/// order, of its ops' kinds.
contract::KernelKind kernelKindOf(mlir::Region &region);

} // namespace bertc

#endif // BERTC_PASSES_KERNELKINDS_H
