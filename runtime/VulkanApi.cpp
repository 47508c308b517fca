//===- VulkanApi.cpp - The Vulkan loader, opened at run time --------------===//
#include "runtime/VulkanApi.h"

#include "runtime/VulkanDevices.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace bertc::rt {

namespace {
std::atomic<size_t> validationMessageCount{0};
} // namespace

size_t vulkanValidationMessages() { return validationMessageCount.load(); }

namespace vk {

namespace {

constexpr const char *kValidationLayer = "VK_LAYER_KHRONOS_validation";

/// The loader, opened once for the process.
PFN_vkGetInstanceProcAddr loader(std::string &error) {
  static void *library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    error = std::string("no Vulkan loader (libvulkan.so.1): ") + (why ? why : "not found");
    return nullptr;
  }
  auto get = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library, "vkGetInstanceProcAddr"));
  if (!get)
    error = "the Vulkan loader has no vkGetInstanceProcAddr";
  return get;
}

} // namespace

bool shufflesInCompute(const VkPhysicalDeviceSubgroupProperties &subgroup) {
  VkSubgroupFeatureFlags needed = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  return (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
         (subgroup.supportedOperations & needed) == needed && subgroup.subgroupSize > 0;
}

std::string resultName(VkResult result) {
  switch (result) {
  case VK_ERROR_INCOMPATIBLE_DRIVER:
    return "no Vulkan driver (VK_ERROR_INCOMPATIBLE_DRIVER)";
  case VK_ERROR_LAYER_NOT_PRESENT:
    return "a layer is missing (VK_ERROR_LAYER_NOT_PRESENT)";
  case VK_ERROR_EXTENSION_NOT_PRESENT:
    return "an extension is missing (VK_ERROR_EXTENSION_NOT_PRESENT)";
  case VK_ERROR_FEATURE_NOT_PRESENT:
    return "a feature is missing (VK_ERROR_FEATURE_NOT_PRESENT)";
  case VK_ERROR_OUT_OF_HOST_MEMORY:
    return "out of host memory (VK_ERROR_OUT_OF_HOST_MEMORY)";
  case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    return "out of device memory (VK_ERROR_OUT_OF_DEVICE_MEMORY)";
  case VK_ERROR_INITIALIZATION_FAILED:
    return "initialisation failed (VK_ERROR_INITIALIZATION_FAILED)";
  case VK_ERROR_DEVICE_LOST:
    return "the device was lost (VK_ERROR_DEVICE_LOST)";
  case VK_ERROR_MEMORY_MAP_FAILED:
    return "memory cannot be mapped (VK_ERROR_MEMORY_MAP_FAILED)";
  case VK_ERROR_INVALID_SHADER_NV:
    return "the driver rejected a shader (VK_ERROR_INVALID_SHADER_NV)";
  case VK_TIMEOUT:
    return "timed out (VK_TIMEOUT)";
  default:
    return "VkResult " + std::to_string(result);
  }
}

VKAPI_ATTR VkBool32 VKAPI_CALL Instance::onMessage(VkDebugUtilsMessageSeverityFlagBitsEXT,
                                                   VkDebugUtilsMessageTypeFlagsEXT,
                                                   const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                   void *self) {
  std::string text = data->pMessage ? data->pMessage : "";
  static_cast<Instance *>(self)->messages_.push_back(text);
  ++validationMessageCount;
  std::fprintf(stderr, "vulkan validation: %s\n", text.c_str());
  return VK_FALSE;
}

std::unique_ptr<Instance> Instance::create(bool validation, std::string &error) {
  PFN_vkGetInstanceProcAddr get = loader(error);
  if (!get)
    return nullptr;
  auto globalFn = [&](const char *name) { return get(VK_NULL_HANDLE, name); };
  auto enumerateLayers = reinterpret_cast<PFN_vkEnumerateInstanceLayerProperties>(
      globalFn("vkEnumerateInstanceLayerProperties"));
  auto createInstance = reinterpret_cast<PFN_vkCreateInstance>(globalFn("vkCreateInstance"));
  if (!enumerateLayers || !createInstance) {
    error = "the Vulkan loader lacks vkCreateInstance";
    return nullptr;
  }
  if (validation) {
    uint32_t count = 0;
    enumerateLayers(&count, nullptr);
    std::vector<VkLayerProperties> layers(count);
    enumerateLayers(&count, layers.data());
    bool found = false;
    for (const VkLayerProperties &l : layers)
      found = found || !std::strcmp(l.layerName, kValidationLayer);
    if (!found) {
      error =
          std::string("the Vulkan validation layer (") + kValidationLayer + ") is not installed";
      return nullptr;
    }
  }

  std::unique_ptr<Instance> self(new Instance());
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "bertc";
  app.apiVersion = VK_API_VERSION_1_1;
  // The messenger chained here reports on instance creation itself; the
  // one created after reports on everything else.
  VkDebugUtilsMessengerCreateInfoEXT messenger{};
  messenger.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  messenger.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                              VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger.pfnUserCallback = onMessage;
  messenger.pUserData = self.get();
  const char *layers[] = {kValidationLayer};
  const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  if (validation) {
    info.pNext = &messenger;
    info.enabledLayerCount = 1;
    info.ppEnabledLayerNames = layers;
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = extensions;
  }
  VkResult result = createInstance(&info, nullptr, &self->instance_);
  if (result != VK_SUCCESS) {
    error = "cannot create a Vulkan instance: " + resultName(result);
    return nullptr;
  }
  auto instanceFn = [&](const char *name) { return get(self->instance_, name); };
#define BERTC_VK_LOAD(name) self->name = reinterpret_cast<PFN_##name>(instanceFn(#name));
  BERTC_VK_INSTANCE_FUNCTIONS(BERTC_VK_LOAD)
#undef BERTC_VK_LOAD
#define BERTC_VK_CHECK(name)                                                                       \
  if (!self->name) {                                                                               \
    error = "the Vulkan instance lacks " #name " (Vulkan 1.1 is needed)";                          \
    return nullptr;                                                                                \
  }
  BERTC_VK_INSTANCE_FUNCTIONS(BERTC_VK_CHECK)
#undef BERTC_VK_CHECK
  if (validation) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        instanceFn("vkCreateDebugUtilsMessengerEXT"));
    self->destroyMessenger_ = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        instanceFn("vkDestroyDebugUtilsMessengerEXT"));
    if (!create || !self->destroyMessenger_ ||
        create(self->instance_, &messenger, nullptr, &self->messenger_) != VK_SUCCESS) {
      error = "cannot attach to the Vulkan validation layer's messages";
      return nullptr;
    }
  }
  return self;
}

Instance::~Instance() {
  if (messenger_ && destroyMessenger_)
    destroyMessenger_(instance_, messenger_, nullptr);
  if (instance_ && vkDestroyInstance)
    vkDestroyInstance(instance_, nullptr);
}

std::vector<VkPhysicalDevice> Instance::physicalDevices() const {
  uint32_t count = 0;
  vkEnumeratePhysicalDevices(instance_, &count, nullptr);
  std::vector<VkPhysicalDevice> devices(count);
  vkEnumeratePhysicalDevices(instance_, &count, devices.data());
  devices.resize(count);
  return devices;
}

bool DeviceFunctions::load(const Instance &instance, VkDevice device, std::string &error) {
#define BERTC_VK_LOAD(name)                                                                        \
  name = reinterpret_cast<PFN_##name>(instance.vkGetDeviceProcAddr(device, #name));                \
  if (!name) {                                                                                     \
    error = "the Vulkan device lacks " #name;                                                      \
    return false;                                                                                  \
  }
  BERTC_VK_DEVICE_FUNCTIONS(BERTC_VK_LOAD)
#undef BERTC_VK_LOAD
  return true;
}

} // namespace vk
} // namespace bertc::rt
