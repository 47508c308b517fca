//===- VulkanExecutor.h - Dispatches as Vulkan compute shaders --*- C++ -*-===//
//
// The Vulkan executor runs a program compiled with `--target vulkan` on one
// Vulkan device: every kernel's SPIR-V module becomes a compute pipeline,
// built once; every dispatch gets a descriptor set binding its tensors
// (ranges of two buffers, the parameter store and the activation arena, in
// memory the host maps); the dispatches are recorded once into a command
// buffer, with a barrier wherever a dispatch touches what an earlier one
// wrote (or writes what an earlier one read) since the last barrier, and
// each run submits it and waits. Profiling records a timestamp after every
// dispatch.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_VULKANEXECUTOR_H
#define BERTC_RUNTIME_VULKANEXECUTOR_H

#include "runtime/Executor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bertc::rt {

struct VulkanSettings {
  int device = 0;          ///< Index among the loader's devices (`--device vulkan:N`).
  bool validation = false; ///< Enable the Khronos validation layer.
  /// Run the kernels' subgroup modules where the device can (subgroups of
  /// at least the program's cluster, shuffles in compute shaders); false:
  /// always the workgroup-memory ones (`--no-subgroups`).
  bool subgroups = true;
  /// Run the kernels compiled for this many invocations per workgroup (0:
  /// chosen from the device; `--workgroup-size`).
  int64_t workgroupSize = 0;
};

/// An executor on a Vulkan device for one of `variants` (the same program
/// compiled for several workgroup sizes, smallest first): the one
/// `settings` asks for, else the largest the device's limits allow on a
/// GPU, the smallest on a CPU device (which runs a workgroup's invocations
/// in one thread, barriers being switches between them). Its index goes to
/// `chosen`. Null, with the reason in `error`, when there is no loader or
/// device, the device lacks a feature or limit the kernels need, or memory
/// runs out.
std::unique_ptr<Executor> createVulkanExecutor(const std::vector<VulkanKernels> &variants,
                                               const VulkanSettings &settings, size_t &chosen,
                                               std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_VULKANEXECUTOR_H
