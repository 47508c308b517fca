//===- Compiled.h - A compiled program, for each target it holds -*- C++ -*-===//
//
// `bertc compile --target cpu|vulkan|cpu,vulkan` puts a program into a
// binary or a shared library: for the CPU, the program and a table of
// native kernels; for Vulkan, the program and one SPIR-V module per kernel.
// Both programs have the same tensors, buffer plan and dispatches; only the
// workgroup grids differ. A CompiledProgram reads them from the symbols and
// opens sessions on the device a user chooses.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_COMPILED_H
#define BERTC_RUNTIME_COMPILED_H

#include "runtime/Session.h"
#include "runtime/VulkanExecutor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bertc::rt {

/// What the compiler's object file defines; null where a target was not
/// compiled in.
struct ProgramSymbols {
  const char *cpuProgram = nullptr;     ///< bertc_program: JSON.
  const KernelFn *kernels = nullptr;    ///< bertc_kernels.
  const int64_t *kernelCount = nullptr; ///< bertc_kernel_count.
  /// bertc_vulkan_program: a JSON array of the program compiled for each
  /// workgroup size, smallest first.
  const char *vulkanProgram = nullptr;
  /// bertc_spirv: the SPIR-V words of the programs' modules, one after the
  /// other (for each program, its kernels' modules, then the second modules
  /// of its subgroup kernels); module i spans words [offsets[i],
  /// offsets[i + 1]) of bertc_spirv_offsets.
  const uint32_t *spirv = nullptr;
  const int64_t *spirvOffsets = nullptr;
};

/// Where sessions run: `--device cpu` or `--device vulkan[:N]`.
struct DeviceChoice {
  enum class Kind { Default, Cpu, Vulkan };
  Kind kind = Kind::Default; ///< Default: the CPU when compiled in, else Vulkan.
  int index = 0;             ///< vulkan:N.
  int threads = 0;           ///< CPU worker threads (0: all cores).
  bool validation = false;   ///< Vulkan: the Khronos validation layer.
  bool subgroups = true;     ///< Vulkan: subgroup reductions where the device can.
  int64_t workgroupSize = 0; ///< Vulkan: the kernels of this workgroup size (0: by device).
  /// Reads "cpu", "vulkan" or "vulkan:N".
  static bool parse(const std::string &text, DeviceChoice &out, std::string &error);
};

class CompiledProgram {
public:
  /// Reads the symbols; false, saying what is damaged, when a program does
  /// not parse, kernels are missing or the targets' programs disagree.
  static bool fromSymbols(const ProgramSymbols &symbols, CompiledProgram &out, std::string &error);

  bool hasCpu() const { return cpu_ != nullptr; }
  bool hasVulkan() const { return !vulkan_.empty(); }
  /// The workgroup sizes the Vulkan kernels were compiled for, smallest
  /// first.
  std::vector<int64_t> vulkanWorkgroupSizes() const {
    std::vector<int64_t> sizes;
    for (const VulkanKernels &v : vulkan_)
      sizes.push_back(v.program.invocations);
    return sizes;
  }
  /// The program (tensors, inputs, outputs) of the first target held.
  const Program &program() const { return cpu_ ? *cpu_ : vulkan_.front().program; }
  /// A session on `device`; null, with the reason, when the target was not
  /// compiled in or the device cannot run it.
  std::unique_ptr<Session> open(const DeviceChoice &device, std::string &error) const;

private:
  std::shared_ptr<Program> cpu_;
  const KernelFn *kernels_ = nullptr;
  std::vector<VulkanKernels> vulkan_; ///< One per workgroup size, smallest first.
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_COMPILED_H
