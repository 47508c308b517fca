//===- VulkanDevices.h - The Vulkan devices the loader sees ---------*- C++ -*-===//
//
// The Vulkan devices a compiled program can run on (`--list-devices`,
// `--device vulkan:N`), as the loader, opened at run time, sees them.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_VULKANDEVICES_H
#define BERTC_RUNTIME_VULKANDEVICES_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bertc::rt {

/// One physical device, with the limits kernels are sized by.
struct VulkanDevice {
  std::string name;
  std::string type; ///< "discrete", "integrated", "virtual", "cpu" or "other".
  uint32_t apiMajor = 0, apiMinor = 0;
  uint32_t maxWorkgroupInvocations = 0;
  uint32_t maxWorkgroupSize[3] = {0, 0, 0};
  uint32_t maxSharedMemoryBytes = 0;
  uint32_t subgroupSize = 0; ///< 0 when the device does not report it.
  /// Compute shaders may use subgroup shuffles (the kernels' subgroup
  /// reductions).
  bool subgroupShuffles = false;
};

struct VulkanDeviceList {
  std::vector<VulkanDevice> devices;
  /// Messages of the validation layer (when it was asked for) while the
  /// devices were listed.
  std::vector<std::string> validationMessages;
};

/// Lists the devices of the Vulkan loader. `validation` enables the Khronos
/// validation layer and collects its messages. False, with the reason in
/// `error`, when there is no loader, no instance or the layer is missing.
bool listVulkanDevices(bool validation, VulkanDeviceList &list, std::string &error);

/// How many messages the validation layer has reported in this process, in
/// every Vulkan instance that enabled it.
size_t vulkanValidationMessages();

} // namespace bertc::rt

#endif // BERTC_RUNTIME_VULKANDEVICES_H
