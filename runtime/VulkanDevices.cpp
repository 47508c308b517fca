//===- VulkanDevices.cpp - The Vulkan devices the loader sees -------------===//
#include "runtime/VulkanDevices.h"

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <dlfcn.h>

#include <cstring>

namespace bertc::rt {

namespace {

constexpr const char *kValidationLayer = "VK_LAYER_KHRONOS_validation";

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

std::string resultName(VkResult result) {
  switch (result) {
  case VK_ERROR_INCOMPATIBLE_DRIVER:
    return "no Vulkan driver (VK_ERROR_INCOMPATIBLE_DRIVER)";
  case VK_ERROR_LAYER_NOT_PRESENT:
    return "a layer is missing (VK_ERROR_LAYER_NOT_PRESENT)";
  case VK_ERROR_EXTENSION_NOT_PRESENT:
    return "an extension is missing (VK_ERROR_EXTENSION_NOT_PRESENT)";
  case VK_ERROR_OUT_OF_HOST_MEMORY:
    return "out of host memory";
  case VK_ERROR_INITIALIZATION_FAILED:
    return "initialisation failed";
  default:
    return "VkResult " + std::to_string(result);
  }
}

VKAPI_ATTR VkBool32 VKAPI_CALL onValidationMessage(VkDebugUtilsMessageSeverityFlagBitsEXT,
                                                   VkDebugUtilsMessageTypeFlagsEXT,
                                                   const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                   void *user) {
  static_cast<std::vector<std::string> *>(user)->push_back(data->pMessage ? data->pMessage : "");
  return VK_FALSE;
}

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

bool listVulkanDevices(bool validation, VulkanDeviceList &list, std::string &error) {
  PFN_vkGetInstanceProcAddr get = loader(error);
  if (!get)
    return false;
  auto globalFn = [&](const char *name) { return get(VK_NULL_HANDLE, name); };
  auto enumerateLayers = reinterpret_cast<PFN_vkEnumerateInstanceLayerProperties>(
      globalFn("vkEnumerateInstanceLayerProperties"));
  auto createInstance = reinterpret_cast<PFN_vkCreateInstance>(globalFn("vkCreateInstance"));
  if (!enumerateLayers || !createInstance) {
    error = "the Vulkan loader lacks vkCreateInstance";
    return false;
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
      return false;
    }
  }

  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "bertc";
  app.apiVersion = VK_API_VERSION_1_1;
  // With validation, the layer's messages during instance creation and use
  // reach `list.validationMessages`.
  VkDebugUtilsMessengerCreateInfoEXT messenger{};
  messenger.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  messenger.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                              VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger.pfnUserCallback = onValidationMessage;
  messenger.pUserData = &list.validationMessages;
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
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = createInstance(&info, nullptr, &instance);
  if (result != VK_SUCCESS) {
    error = "cannot create a Vulkan instance: " + resultName(result);
    return false;
  }
  auto instanceFn = [&](const char *name) { return get(instance, name); };
  auto destroyInstance = reinterpret_cast<PFN_vkDestroyInstance>(instanceFn("vkDestroyInstance"));
  auto enumerateDevices =
      reinterpret_cast<PFN_vkEnumeratePhysicalDevices>(instanceFn("vkEnumeratePhysicalDevices"));
  auto properties2 = reinterpret_cast<PFN_vkGetPhysicalDeviceProperties2>(
      instanceFn("vkGetPhysicalDeviceProperties2"));
  if (!destroyInstance || !enumerateDevices || !properties2) {
    error = "the Vulkan instance lacks Vulkan 1.1's device queries";
    if (destroyInstance)
      destroyInstance(instance, nullptr);
    return false;
  }
  uint32_t count = 0;
  enumerateDevices(instance, &count, nullptr);
  std::vector<VkPhysicalDevice> physical(count);
  enumerateDevices(instance, &count, physical.data());
  for (VkPhysicalDevice device : physical) {
    VkPhysicalDeviceSubgroupProperties subgroup{};
    subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
    VkPhysicalDeviceProperties2 props{};
    props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    props.pNext = &subgroup;
    properties2(device, &props);
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
    list.devices.push_back(d);
  }
  destroyInstance(instance, nullptr);
  return true;
}

} // namespace bertc::rt
