//===- Internal.h - Pieces the Vulkan back end's steps share ----*- C++ -*-===//
#ifndef BERTC_BACKENDS_VULKAN_INTERNAL_H
#define BERTC_BACKENDS_VULKAN_INTERNAL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/IR/Builders.h"

namespace bertc::vulkan {

/// On a kernel's second gpu.module (its reductions combined through subgroup
/// shuffles): the index of its kernel.
constexpr llvm::StringLiteral kSubgroupsOfAttr = "bertc.subgroups_of";
/// On a gpu.func once its invocations are distributed: the bytes of
/// workgroup memory it uses.
constexpr llvm::StringLiteral kWorkgroupMemoryAttr = "bertc.workgroup_memory";
/// Marks the steps spreadReduction built: already spread over the
/// invocations, each between barriers.
constexpr llvm::StringLiteral kSpreadAttr = "bertc.spread";

/// The Vulkan kernels' `bertc.strategy` (bertc-vulkan-select-strategy writes
/// it; the keys are the Passes.td's).
struct VulkanStrategy {
  int64_t invocations = 64;
  int64_t subgroupCluster = 8;
  /// Matmul staging through workgroup memory: the smallest tile side staged,
  /// the largest operand piece (elements) and the longest K chunk.
  int64_t stagedTileMin = 16, stagedElementsMax = 1024, stagedKChunk = 32;

  mlir::DictionaryAttr toAttr(mlir::MLIRContext *ctx) const;
  /// The strategy of `kernel` (a func.func or gpu.func); the defaults for
  /// keys it lacks.
  static VulkanStrategy of(mlir::Operation *kernel);
};

/// What the shaders may use: SPIR-V 1.3 with 64-bit integers; with `cluster`
/// > 1, subgroup shuffles among that many lanes too.
mlir::spirv::TargetEnvAttr targetEnv(mlir::MLIRContext *ctx, int64_t cluster);

/// The kernel's invocation id in its workgroup, read once at its entry.
mlir::Value invocationId(mlir::gpu::GPUFuncOp kernel);

/// Delinearizes `linear` over `sizes` (row-major): the index along each.
llvm::SmallVector<mlir::Value> delinearize(mlir::OpBuilder &b, mlir::Location loc,
                                           mlir::Value linear, llvm::ArrayRef<mlir::Value> sizes);
/// `delinearize` over static sizes.
llvm::SmallVector<mlir::Value> delinearize(mlir::OpBuilder &b, mlir::Location loc,
                                           mlir::Value linear, llvm::ArrayRef<int64_t> sizes);

} // namespace bertc::vulkan

#endif // BERTC_BACKENDS_VULKAN_INTERNAL_H
