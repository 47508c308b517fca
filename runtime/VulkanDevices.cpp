//===- VulkanDevices.cpp - The Vulkan devices the loader sees -------------===//
#include "runtime/VulkanDevices.h"

#include "runtime/VulkanApi.h"

namespace bertc::rt {

namespace {

const char *typeName(VkPhysicalDeviceType type) {
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
    return "discrete";
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
    return "integrated";
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
    return "virtual";
  case VK_PHYSICAL_DEVICE_TYPE_CPU:
    return "cpu";
  default:
    return "other";
  }
}

} // namespace

bool listVulkanDevices(bool validation, VulkanDeviceList &list, std::string &error) {
  std::unique_ptr<vk::Instance> instance = vk::Instance::create(validation, error);
  if (!instance)
    return false;
  for (VkPhysicalDevice device : instance->physicalDevices()) {
    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    VkPhysicalDeviceProperties2 props{};
    props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props.pNext = &subgroup;
    instance->vkGetPhysicalDeviceProperties2(device, &props);
    const VkPhysicalDeviceProperties &p = props.properties;
    VulkanDevice d;
    d.name = p.deviceName;
    d.type = typeName(p.deviceType);
    d.apiMajor = VK_API_VERSION_MAJOR(p.apiVersion);
    d.apiMinor = VK_API_VERSION_MINOR(p.apiVersion);
    d.maxWorkgroupInvocations = p.limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; ++i)
      d.maxWorkgroupSize[i] = p.limits.maxComputeWorkGroupSize[i];
    d.maxSharedMemoryBytes = p.limits.maxComputeSharedMemorySize;
    d.subgroupSize = subgroup.subgroupSize;
    d.subgroupShuffles = vk::shufflesInCompute(subgroup);
    list.devices.push_back(d);
  }
  list.validationMessages = instance->messages();
  return true;
}

} // namespace bertc::rt
