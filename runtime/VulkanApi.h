//===- VulkanApi.h - The Vulkan loader, opened at run time ------*- C++ -*-===//
//
// Internal to the runtime's Vulkan code. The loader (libvulkan.so.1) is
// opened with dlopen, so that compiled programs run on machines without it,
// and every function is looked up through it into the tables below. An
// Instance may enable the Khronos validation layer: its messages are
// printed to standard error, kept, and counted for the whole process.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_VULKANAPI_H
#define BERTC_RUNTIME_VULKANAPI_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <memory>
#include <string>
#include <vector>

namespace bertc::rt::vk {

#define BERTC_VK_INSTANCE_FUNCTIONS(X)                                                             \
  X(vkDestroyInstance)                                                                             \
  X(vkEnumeratePhysicalDevices)                                                                    \
  X(vkGetPhysicalDeviceProperties2)                                                                \
  X(vkGetPhysicalDeviceFeatures)                                                                   \
  X(vkGetPhysicalDeviceQueueFamilyProperties)                                                      \
  X(vkGetPhysicalDeviceMemoryProperties)                                                           \
  X(vkCreateDevice)                                                                                \
  X(vkGetDeviceProcAddr)

#define BERTC_VK_DEVICE_FUNCTIONS(X)                                                               \
  X(vkDestroyDevice)                                                                               \
  X(vkGetDeviceQueue)                                                                              \
  X(vkCreateBuffer)                                                                                \
  X(vkDestroyBuffer)                                                                               \
  X(vkGetBufferMemoryRequirements)                                                                 \
  X(vkAllocateMemory)                                                                              \
  X(vkFreeMemory)                                                                                  \
  X(vkBindBufferMemory)                                                                            \
  X(vkMapMemory)                                                                                   \
  X(vkCreateShaderModule)                                                                          \
  X(vkDestroyShaderModule)                                                                         \
  X(vkCreateDescriptorSetLayout)                                                                   \
  X(vkDestroyDescriptorSetLayout)                                                                  \
  X(vkCreatePipelineLayout)                                                                        \
  X(vkDestroyPipelineLayout)                                                                       \
  X(vkCreateComputePipelines)                                                                      \
  X(vkDestroyPipeline)                                                                             \
  X(vkCreateDescriptorPool)                                                                        \
  X(vkDestroyDescriptorPool)                                                                       \
  X(vkAllocateDescriptorSets)                                                                      \
  X(vkUpdateDescriptorSets)                                                                        \
  X(vkCreateCommandPool)                                                                           \
  X(vkDestroyCommandPool)                                                                          \
  X(vkAllocateCommandBuffers)                                                                      \
  X(vkFreeCommandBuffers)                                                                          \
  X(vkBeginCommandBuffer)                                                                          \
  X(vkEndCommandBuffer)                                                                            \
  X(vkCmdBindPipeline)                                                                             \
  X(vkCmdBindDescriptorSets)                                                                       \
  X(vkCmdDispatch)                                                                                 \
  X(vkCmdPipelineBarrier)                                                                          \
  X(vkCmdResetQueryPool)                                                                           \
  X(vkCmdWriteTimestamp)                                                                           \
  X(vkCreateQueryPool)                                                                             \
  X(vkDestroyQueryPool)                                                                            \
  X(vkGetQueryPoolResults)                                                                         \
  X(vkCreateFence)                                                                                 \
  X(vkDestroyFence)                                                                                \
  X(vkResetFences)                                                                                 \
  X(vkWaitForFences)                                                                               \
  X(vkQueueSubmit)                                                                                 \
  X(vkDeviceWaitIdle)

/// "VK_ERROR_DEVICE_LOST" and the like, with a word on what it means.
std::string resultName(VkResult result);

/// Whether compute shaders may use the subgroup built-ins and shuffles.
bool shufflesInCompute(const VkPhysicalDeviceSubgroupProperties &subgroup);

/// A Vulkan instance and its functions.
class Instance {
public:
  /// Opens the loader and creates an instance; `validation` enables the
  /// Khronos validation layer. Null, with the reason in `error`, when there
  /// is no loader, no driver or no layer.
  static std::unique_ptr<Instance> create(bool validation, std::string &error);
  ~Instance();
  Instance(const Instance &) = delete;
  Instance &operator=(const Instance &) = delete;

  VkInstance handle() const { return instance_; }
  std::vector<VkPhysicalDevice> physicalDevices() const;
  /// The validation layer's messages so far.
  const std::vector<std::string> &messages() const { return messages_; }

#define BERTC_VK_MEMBER(name) PFN_##name name = nullptr;
  BERTC_VK_INSTANCE_FUNCTIONS(BERTC_VK_MEMBER)

private:
  Instance() = default;
  static VKAPI_ATTR VkBool32 VKAPI_CALL onMessage(VkDebugUtilsMessageSeverityFlagBitsEXT,
                                                  VkDebugUtilsMessageTypeFlagsEXT,
                                                  const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                  void *self);
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  PFN_vkDestroyDebugUtilsMessengerEXT destroyMessenger_ = nullptr;
  std::vector<std::string> messages_;
};

/// The functions of one logical device.
struct DeviceFunctions {
  BERTC_VK_DEVICE_FUNCTIONS(BERTC_VK_MEMBER)
  /// Looks every function up; false, naming the missing one, otherwise.
  bool load(const Instance &instance, VkDevice device, std::string &error);
};
#undef BERTC_VK_MEMBER

} // namespace bertc::rt::vk

#endif // BERTC_RUNTIME_VULKANAPI_H
