//===- VulkanBackend.h - Dispatch regions to SPIR-V compute shaders -*- C++ -*-===//
//
// The Vulkan back end compiles the kernel module that buildProgram outlined
// into one SPIR-V module per kernel. It shares the CPU back end's steps up
// to the workgroup kernels over memrefs (backends/common: destination-passing
// form, tiling into workgroups, bufferization, the workgroup ids as
// arguments), its own strategy choosing small tiles whose scratch buffers
// live in workgroup memory, and then lowers each kernel through MLIR's gpu
// and spirv dialects: the workgroup ids become gpu.block_id, every binding
// (inputs, then outputs) a storage buffer at descriptor set 0, binding i.
// Two pipelines, registered in bertc-opt: bertc-vulkan-workgroup-kernels
// (to gpu.modules whose invocations share each workgroup's tile) and
// bertc-vulkan-to-spirv.
//
// A compiled binary carries the modules and the program as data
// (addSpirvGlobals) for the runtime's Vulkan executor.
//
// Each workgroup's invocations share its tile: every linalg op's parallel
// loops are spread over them cyclically, ops that are not loops run in the
// first, and workgroup barriers separate the steps.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_VULKAN_VULKANBACKEND_H
#define BERTC_BACKENDS_VULKAN_VULKANBACKEND_H

#include "runtime/Program.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <vector>

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace bertc::vulkan {

struct VulkanPipelineOptions {
  /// Workgroups to aim for per kernel: GPUs run many at once, but each of
  /// 64 invocations wants a tile of some size (BERT-tiny's step on
  /// lavapipe, alternating runs: 1.14 s per step at 1024, 1.44 s at 4096).
  int64_t targetWorkgroups = 1024;
  /// Invocations per workgroup (a power of two); each workgroup's tile has
  /// at least as many iterations.
  int64_t invocations = 64;
  /// Invocations of a subgroup that combine a reduction's partial results
  /// with shuffles in the kernels' second modules (a power of two; 0 or 1:
  /// no second modules). The executor runs those where the device's
  /// subgroups have at least this many invocations and shuffles in compute
  /// shaders, the first modules (workgroup memory only) elsewhere.
  int64_t subgroupCluster = 8;
};

/// The workgroup sizes a binary carries kernels for unless told otherwise,
/// for the executor to choose from by device: 64, within every Vulkan
/// device's limits (maxComputeWorkGroupInvocations and
/// maxComputeWorkGroupSize.x are at least 128) and fast on CPU devices
/// (lavapipe, BERT-tiny's step: 16 to 64 alike, 128 1.2x and 256 1.9x
/// slower); 256 for GPUs.
inline const std::vector<int64_t> &defaultWorkgroupSizes() {
  static const std::vector<int64_t> sizes = {64, 256};
  return sizes;
}

/// Dialects and interfaces the Vulkan back end needs in its context.
void registerVulkanBackend(mlir::DialectRegistry &registry);

/// bertc-vulkan-workgroup-kernels and bertc-vulkan-to-spirv, and every
/// Vulkan back-end pass, for bertc-opt.
void registerVulkanPipelines();

/// Kernels over tensors to gpu.modules of workgroup kernels, each with its
/// `bertc.grid`, `bertc.strategy` and `bertc.workgroup_memory`, followed by
/// the kernels' second modules (`bertc.subgroups_of`).
void buildVulkanWorkgroupKernelsPipeline(mlir::OpPassManager &pm,
                                         const VulkanPipelineOptions &options);

/// The gpu.modules to spirv.modules in their place, ready to serialise.
void buildVulkanToSpirvPipeline(mlir::OpPassManager &pm);

/// Rewrites `kernels` in place with both pipelines: one `spirv.module` per
/// kernel, in kernel order, then one more for each kernel of
/// `program.subgroupKernels`, in that order (its reductions combine through
/// subgroup shuffles); sets each dispatch's grid and the program's
/// invocations, workgroup memory and subgroup kernels from what the first
/// pipeline recorded.
mlir::LogicalResult buildSpirvKernels(mlir::ModuleOp kernels, rt::Program &program,
                                      const VulkanPipelineOptions &options);

/// The SPIR-V binary of each module buildSpirvKernels left, in its order.
mlir::LogicalResult serializeSpirvKernels(mlir::ModuleOp kernels,
                                          std::vector<std::vector<uint32_t>> &binaries);

/// Adds to the LLVM-dialect module `object` the globals a compiled binary's
/// Vulkan executor reads (runtime/Compiled.h): `bertc_vulkan_program` (the
/// variants' programs, a JSON array), `bertc_spirv` (their binaries, one
/// after the other, each variant's in serializeSpirvKernels' order) and
/// `bertc_spirv_offsets` (where each starts, in words, and the end).
void addSpirvGlobals(mlir::ModuleOp object, const std::vector<rt::VulkanKernels> &variants);

} // namespace bertc::vulkan

#endif // BERTC_BACKENDS_VULKAN_VULKANBACKEND_H
