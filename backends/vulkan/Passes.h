//===- Passes.h - The Vulkan back end's steps -------------------*- C++ -*-===//
#ifndef BERTC_BACKENDS_VULKAN_PASSES_H
#define BERTC_BACKENDS_VULKAN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace bertc::vulkan {

#define GEN_PASS_DECL
#include "backends/vulkan/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "backends/vulkan/Passes.h.inc"

} // namespace bertc::vulkan

#endif // BERTC_BACKENDS_VULKAN_PASSES_H
