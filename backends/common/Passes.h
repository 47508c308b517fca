//===- Passes.h - Back-end steps both targets share -------------*- C++ -*-===//
#ifndef BERTC_BACKENDS_COMMON_PASSES_H
#define BERTC_BACKENDS_COMMON_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace bertc {

#define GEN_PASS_DECL
#include "backends/common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "backends/common/Passes.h.inc"

/// Dialects and interfaces (bufferization, tiling) the shared steps need in
/// their context.
void registerCommonBackend(mlir::DialectRegistry &registry);

} // namespace bertc

#endif // BERTC_BACKENDS_COMMON_PASSES_H
