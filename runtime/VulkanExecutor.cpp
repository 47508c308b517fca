//===- VulkanExecutor.cpp - Dispatches as Vulkan compute shaders ----------===//
#include "runtime/VulkanExecutor.h"

#include "runtime/VulkanApi.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace bertc::rt {

namespace {

/// A byte range of the parameter store or of the arena.
struct Range {
  Storage storage;
  int64_t begin, end;
  bool overlaps(const Range &o) const {
    return storage == o.storage && begin < o.end && o.begin < end;
  }
};

bool overlapsAny(const Range &r, const std::vector<Range> &list) {
  for (const Range &o : list)
    if (r.overlaps(o))
      return true;
  return false;
}

class VulkanExecutor final : public Executor {
public:
  VulkanExecutor() = default;
  ~VulkanExecutor() override;

  /// Opens the device, chooses one of `variants` (its index to `chosen`)
  /// and builds its kernels.
  bool init(const std::vector<VulkanKernels> &variants, const VulkanSettings &settings,
            size_t &chosen, std::string &error);

  char *parameters() override { return parameters_.host; }
  char *arena() override { return arena_.host; }
  std::string device() const override {
    return name_ + ", " + std::to_string(program_.invocations) + " invocations per workgroup" +
           (subgroups_ ? ", subgroup reductions" : "");
  }
  void run(size_t begin, size_t end, std::vector<KernelTime> *times) override {
    if (begin != 0)
      throw ExecutionError(name_ + ": a step split into micro-batches (--accumulate) runs on the "
                                   "CPU only for now: use --device cpu");
    runPrefix(end, times);
  }

private:
  /// A storage buffer in memory the host keeps mapped.
  struct Block {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    char *host = nullptr;
  };
  struct Kernel {
    VkShaderModule module = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
  };

  bool check(VkResult result, const char *what, std::string &error) {
    if (result == VK_SUCCESS)
      return true;
    error = name_ + ": " + what + ": " + vk::resultName(result);
    return false;
  }
  bool chooseDevice(const VulkanSettings &settings, std::string &error);
  /// Whether the device's limits allow `p`'s workgroups; if not, why.
  bool fits(const Program &p, std::string &why) const;
  bool chooseKernels(const std::vector<VulkanKernels> &variants, const VulkanSettings &settings,
                     size_t &chosen, std::string &error);
  /// What the chosen kernels need of the device beyond their workgroups.
  bool checkLimits(std::string &error);
  bool allocate(int64_t bytes, Block &block, std::string &error);
  bool buildKernels(const std::vector<std::vector<uint32_t>> &spirv, std::string &error);
  bool bindDispatches(std::string &error);
  VkCommandBuffer record(size_t count, bool timestamps);
  /// Runs dispatches [0, count).
  void runPrefix(size_t count, std::vector<KernelTime> *times);

  Program program_;
  std::unique_ptr<vk::Instance> instance_;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties_{};
  std::string name_ = "vulkan";
  /// Whether the kernels of program_.subgroupKernels run their second
  /// modules (subgroup shuffles).
  bool subgroups_ = false;
  VkPhysicalDeviceSubgroupProperties subgroup_{};
  uint32_t queueFamily_ = 0;
  uint32_t timestampBits_ = 0;
  VkDevice device_ = VK_NULL_HANDLE;
  vk::DeviceFunctions f_{};
  bool loaded_ = false; ///< Every function of f_ was found.
  VkQueue queue_ = VK_NULL_HANDLE;
  Block parameters_, arena_;
  std::vector<Kernel> kernels_;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorSet> sets_; ///< One per dispatch.
  VkCommandPool commandPool_ = VK_NULL_HANDLE;
  /// Recorded command buffers by (dispatch count, timestamps).
  std::map<std::pair<size_t, bool>, VkCommandBuffer> recorded_;
  VkQueryPool queries_ = VK_NULL_HANDLE; ///< dispatches + 1 timestamps.
  VkFence fence_ = VK_NULL_HANDLE;
};

bool VulkanExecutor::chooseDevice(const VulkanSettings &settings, std::string &error) {
  std::vector<VkPhysicalDevice> devices = instance_->physicalDevices();
  if (devices.empty()) {
    error = "the Vulkan loader sees no devices";
    return false;
  }
  if (settings.device < 0 || static_cast<size_t>(settings.device) >= devices.size()) {
    error = "no Vulkan device " + std::to_string(settings.device) + ": the loader sees " +
            std::to_string(devices.size()) + " (see --list-devices)";
    return false;
  }
  physical_ = devices[settings.device];
  VkPhysicalDeviceSubgroupProperties subgroup{};
  subgroup.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
  VkPhysicalDeviceProperties2 props{};
  props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  props.pNext = &subgroup;
  instance_->vkGetPhysicalDeviceProperties2(physical_, &props);
  properties_ = props.properties;
  name_ = "vulkan:" + std::to_string(settings.device) + " (" + properties_.deviceName + ")";
  subgroup_ = subgroup;

  VkPhysicalDeviceFeatures features{};
  instance_->vkGetPhysicalDeviceFeatures(physical_, &features);
  if (!features.shaderInt64) {
    error = name_ + " lacks the shaderInt64 feature the kernels need (dropout's generator)";
    return false;
  }
  uint32_t families = 0;
  instance_->vkGetPhysicalDeviceQueueFamilyProperties(physical_, &families, nullptr);
  std::vector<VkQueueFamilyProperties> family(families);
  instance_->vkGetPhysicalDeviceQueueFamilyProperties(physical_, &families, family.data());
  bool found = false;
  for (uint32_t i = 0; i < families && !found; ++i)
    if (family[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      queueFamily_ = i;
      timestampBits_ = family[i].timestampValidBits;
      found = true;
    }
  if (!found) {
    error = name_ + " has no compute queue";
    return false;
  }
  return true;
}

bool VulkanExecutor::fits(const Program &p, std::string &why) const {
  const VkPhysicalDeviceLimits &limits = properties_.limits;
  if (p.invocations > limits.maxComputeWorkGroupInvocations ||
      p.invocations > limits.maxComputeWorkGroupSize[0]) {
    why = name_ + ": the kernels' workgroups have " + std::to_string(p.invocations) +
          " invocations, the device allows " +
          std::to_string(
              std::min(limits.maxComputeWorkGroupInvocations, limits.maxComputeWorkGroupSize[0]));
    return false;
  }
  for (size_t k = 0; k < p.workgroupMemory.size(); ++k)
    if (p.workgroupMemory[k] > limits.maxComputeSharedMemorySize) {
      why = name_ + ": " + p.kernels[k] + " uses " + std::to_string(p.workgroupMemory[k]) +
            " bytes of workgroup memory at " + std::to_string(p.invocations) +
            " invocations per workgroup, the device has " +
            std::to_string(limits.maxComputeSharedMemorySize);
      return false;
    }
  return true;
}

bool VulkanExecutor::chooseKernels(const std::vector<VulkanKernels> &variants,
                                   const VulkanSettings &settings, size_t &chosen,
                                   std::string &error) {
  std::vector<size_t> fitting;
  std::string why;
  bool compiled = false;
  std::string sizes;
  for (size_t i = 0; i < variants.size(); ++i) {
    const Program &p = variants[i].program;
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(p.invocations);
    if (settings.workgroupSize != 0 && p.invocations != settings.workgroupSize)
      continue;
    compiled = true;
    std::string reason;
    if (fits(p, reason))
      fitting.push_back(i);
    else if (why.empty())
      why = reason; // the smallest's
  }
  if (!compiled) {
    error = "the program was compiled for workgroups of " + sizes + " invocations, not " +
            std::to_string(settings.workgroupSize) + " (bertc compile --workgroup-size)";
    return false;
  }
  if (fitting.empty()) {
    error = why;
    return false;
  }
  // A CPU device runs a workgroup's invocations in one thread, where
  // barriers are switches between them: the fewest; a GPU the most.
  chosen = properties_.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? fitting.front() : fitting.back();
  program_ = variants[chosen].program;
  // The second modules number a workgroup's invocations subgroup after
  // subgroup and shuffle among `subgroupCluster` lanes: the subgroups must
  // be whole (their size divides the workgroup's) and at least that large.
  subgroups_ = settings.subgroups && !program_.subgroupKernels.empty() &&
               vk::shufflesInCompute(subgroup_) &&
               subgroup_.subgroupSize >= program_.subgroupCluster &&
               program_.invocations % subgroup_.subgroupSize == 0;
  return true;
}

bool VulkanExecutor::checkLimits(std::string &error) {
  for (const TensorDesc &t : program_.tensors)
    if (t.dtype == DType::F64) {
      error = name_ + ": the Vulkan back end compiles float32 and int32 programs only";
      return false;
    }
  const VkPhysicalDeviceLimits &limits = properties_.limits;
  size_t maxBindings = 0;
  for (const DispatchDesc &d : program_.dispatches) {
    maxBindings = std::max(maxBindings, d.bindings.size());
    for (int i = 0; i < 3; ++i)
      if (d.grid[i] > limits.maxComputeWorkGroupCount[i]) {
        error = name_ + ": a dispatch of " + program_.kernels[d.kernel] + " needs " +
                std::to_string(d.grid[i]) + " workgroups along axis " + std::to_string(i) +
                ", the device allows " + std::to_string(limits.maxComputeWorkGroupCount[i]);
        return false;
      }
  }
  if (maxBindings > limits.maxPerStageDescriptorStorageBuffers) {
    error = name_ + ": a kernel binds " + std::to_string(maxBindings) +
            " storage buffers, the device allows " +
            std::to_string(limits.maxPerStageDescriptorStorageBuffers);
    return false;
  }
  for (const TensorDesc &t : program_.tensors) {
    if (t.offset % static_cast<int64_t>(limits.minStorageBufferOffsetAlignment)) {
      error = name_ + ": tensor " + t.name + " starts at byte " + std::to_string(t.offset) +
              ", the device binds storage buffers at multiples of " +
              std::to_string(limits.minStorageBufferOffsetAlignment);
      return false;
    }
    if (t.bytes() > static_cast<int64_t>(limits.maxStorageBufferRange)) {
      error = name_ + ": tensor " + t.name + " has " + std::to_string(t.bytes()) +
              " bytes, the device binds at most " + std::to_string(limits.maxStorageBufferRange);
      return false;
    }
  }
  return true;
}

/// Memory the host maps: device-local as well when the device has such a
/// heap large enough (integrated GPUs, CPUs, resizable BAR), host memory
/// otherwise.
bool VulkanExecutor::allocate(int64_t bytes, Block &block, std::string &error) {
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = static_cast<VkDeviceSize>(std::max<int64_t>(bytes, 256));
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  if (!check(f_.vkCreateBuffer(device_, &info, nullptr, &block.buffer), "cannot create a buffer",
             error))
    return false;
  VkMemoryRequirements needs;
  f_.vkGetBufferMemoryRequirements(device_, block.buffer, &needs);
  VkPhysicalDeviceMemoryProperties memory;
  instance_->vkGetPhysicalDeviceMemoryProperties(physical_, &memory);
  const VkMemoryPropertyFlags mapped =
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int chosen = -1;
  for (VkMemoryPropertyFlags want : {mapped | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, mapped}) {
    for (uint32_t i = 0; i < memory.memoryTypeCount && chosen < 0; ++i) {
      const VkMemoryType &type = memory.memoryTypes[i];
      if ((needs.memoryTypeBits & (1u << i)) && (type.propertyFlags & want) == want &&
          memory.memoryHeaps[type.heapIndex].size >= needs.size)
        chosen = static_cast<int>(i);
    }
    if (chosen >= 0)
      break;
  }
  if (chosen < 0) {
    error = name_ + ": no host-visible memory type holds " + std::to_string(bytes) + " bytes";
    return false;
  }
  VkMemoryAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  alloc.allocationSize = needs.size;
  alloc.memoryTypeIndex = static_cast<uint32_t>(chosen);
  void *host = nullptr;
  if (!check(f_.vkAllocateMemory(device_, &alloc, nullptr, &block.memory),
             ("cannot allocate " + std::to_string(needs.size) + " bytes").c_str(), error) ||
      !check(f_.vkBindBufferMemory(device_, block.buffer, block.memory, 0), "cannot bind memory",
             error) ||
      !check(f_.vkMapMemory(device_, block.memory, 0, VK_WHOLE_SIZE, 0, &host), "cannot map memory",
             error))
    return false;
  block.host = static_cast<char *>(host);
  std::memset(block.host, 0, static_cast<size_t>(info.size));
  return true;
}

bool VulkanExecutor::buildKernels(const std::vector<std::vector<uint32_t>> &spirv,
                                  std::string &error) {
  size_t modules = program_.kernels.size() + program_.subgroupKernels.size();
  if (spirv.size() != modules) {
    error = "the program has " + std::to_string(modules) + " kernel modules but " +
            std::to_string(spirv.size()) + " SPIR-V modules were given";
    return false;
  }
  // The module each kernel runs.
  std::vector<const std::vector<uint32_t> *> code(program_.kernels.size());
  for (size_t k = 0; k < code.size(); ++k)
    code[k] = &spirv[k];
  if (subgroups_)
    for (size_t i = 0; i < program_.subgroupKernels.size(); ++i)
      code[program_.subgroupKernels[i]] = &spirv[program_.kernels.size() + i];
  // Each kernel's binding count, from its dispatches.
  std::vector<size_t> bindings(program_.kernels.size(), 0);
  for (const DispatchDesc &d : program_.dispatches)
    bindings[d.kernel] = d.bindings.size();
  kernels_.resize(program_.kernels.size());
  for (size_t k = 0; k < kernels_.size(); ++k) {
    Kernel &kernel = kernels_[k];
    VkShaderModuleCreateInfo module{};
    module.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
    module.codeSize = code[k]->size() * sizeof(uint32_t);
    module.pCode = code[k]->data();
    std::vector<VkDescriptorSetLayoutBinding> slots(bindings[k]);
    for (size_t i = 0; i < slots.size(); ++i) {
      slots[i].binding = static_cast<uint32_t>(i);
      slots[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      slots[i].descriptorCount = 1;
      slots[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
    VkDescriptorSetLayoutCreateInfo set{};
    set.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
    set.bindingCount = static_cast<uint32_t>(slots.size());
    set.pBindings = slots.data();
    if (!check(f_.vkCreateShaderModule(device_, &module, nullptr, &kernel.module),
               ("cannot load the SPIR-V of " + program_.kernels[k]).c_str(), error) ||
        !check(f_.vkCreateDescriptorSetLayout(device_, &set, nullptr, &kernel.setLayout),
               "cannot create a descriptor set layout", error))
      return false;
    VkPipelineLayoutCreateInfo layout{};
    layout.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
    layout.setLayoutCount = 1;
    layout.pSetLayouts = &kernel.setLayout;
    if (!check(f_.vkCreatePipelineLayout(device_, &layout, nullptr, &kernel.layout),
               "cannot create a pipeline layout", error))
      return false;
    VkComputePipelineCreateInfo pipeline{};
    pipeline.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
    pipeline.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    pipeline.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    pipeline.stage.module = kernel.module;
    pipeline.stage.pName = program_.kernels[k].c_str(); // the entry point's name
    pipeline.layout = kernel.layout;
    if (!check(f_.vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &pipeline, nullptr,
                                           &kernel.pipeline),
               ("cannot build the pipeline of " + program_.kernels[k]).c_str(), error))
      return false;
  }
  return true;
}

bool VulkanExecutor::bindDispatches(std::string &error) {
  uint32_t descriptors = 0;
  for (const DispatchDesc &d : program_.dispatches)
    descriptors += static_cast<uint32_t>(d.bindings.size());
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max(descriptors, 1u)};
  VkDescriptorPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  pool.maxSets = static_cast<uint32_t>(std::max<size_t>(program_.dispatches.size(), 1));
  pool.poolSizeCount = 1;
  pool.pPoolSizes = &size;
  if (!check(f_.vkCreateDescriptorPool(device_, &pool, nullptr, &pool_),
             "cannot create a descriptor pool", error))
    return false;
  sets_.resize(program_.dispatches.size());
  for (size_t i = 0; i < program_.dispatches.size(); ++i) {
    const DispatchDesc &d = program_.dispatches[i];
    VkDescriptorSetAllocateInfo alloc{};
    alloc.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
    alloc.descriptorPool = pool_;
    alloc.descriptorSetCount = 1;
    alloc.pSetLayouts = &kernels_[d.kernel].setLayout;
    if (!check(f_.vkAllocateDescriptorSets(device_, &alloc, &sets_[i]),
               "cannot allocate a descriptor set", error))
      return false;
    std::vector<VkDescriptorBufferInfo> buffers(d.bindings.size());
    std::vector<VkWriteDescriptorSet> writes(d.bindings.size());
    for (size_t b = 0; b < d.bindings.size(); ++b) {
      const TensorDesc &t = program_.tensors[d.bindings[b]];
      buffers[b].buffer = t.storage == Storage::Parameter ? parameters_.buffer : arena_.buffer;
      buffers[b].offset = static_cast<VkDeviceSize>(t.offset);
      buffers[b].range = static_cast<VkDeviceSize>(t.bytes());
      writes[b].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      writes[b].dstSet = sets_[i];
      writes[b].dstBinding = static_cast<uint32_t>(b);
      writes[b].descriptorCount = 1;
      writes[b].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[b].pBufferInfo = &buffers[b];
    }
    f_.vkUpdateDescriptorSets(device_, static_cast<uint32_t>(writes.size()), writes.data(), 0,
                              nullptr);
  }
  return true;
}

bool VulkanExecutor::init(const std::vector<VulkanKernels> &variants,
                          const VulkanSettings &settings, size_t &chosen, std::string &error) {
  instance_ = vk::Instance::create(settings.validation, error);
  if (!instance_ || !chooseDevice(settings, error) ||
      !chooseKernels(variants, settings, chosen, error) || !checkLimits(error))
    return false;
  const std::vector<std::vector<uint32_t>> &spirv = variants[chosen].spirv;
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{};
  queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue.queueFamilyIndex = queueFamily_;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkPhysicalDeviceFeatures features{};
  features.shaderInt64 = VK_TRUE;
  VkDeviceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  info.pEnabledFeatures = &features;
  if (!check(instance_->vkCreateDevice(physical_, &info, nullptr, &device_),
             "cannot open the device", error) ||
      !(loaded_ = f_.load(*instance_, device_, error)))
    return false;
  f_.vkGetDeviceQueue(device_, queueFamily_, 0, &queue_);
  if (!allocate(program_.parameterBytes, parameters_, error) ||
      !allocate(program_.activationBytes, arena_, error) || !buildKernels(spirv, error) ||
      !bindDispatches(error))
    return false;
  VkCommandPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool.queueFamilyIndex = queueFamily_;
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  if (!check(f_.vkCreateCommandPool(device_, &pool, nullptr, &commandPool_),
             "cannot create a command pool", error) ||
      !check(f_.vkCreateFence(device_, &fence, nullptr, &fence_), "cannot create a fence", error))
    return false;
  if (timestampBits_ > 0) {
    VkQueryPoolCreateInfo queries{};
    queries.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    queries.queryType = VK_QUERY_TYPE_TIMESTAMP;
    queries.queryCount = static_cast<uint32_t>(program_.dispatches.size() + 1);
    if (!check(f_.vkCreateQueryPool(device_, &queries, nullptr, &queries_),
               "cannot create a timestamp query pool", error))
      return false;
  }
  return true;
}

VkCommandBuffer VulkanExecutor::record(size_t count, bool timestamps) {
  auto found = recorded_.find({count, timestamps});
  if (found != recorded_.end())
    return found->second;
  VkCommandBufferAllocateInfo alloc{};
  alloc.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  alloc.commandPool = commandPool_;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkResult result = f_.vkAllocateCommandBuffers(device_, &alloc, &cb);
  if (result != VK_SUCCESS)
    throw ExecutionError(name_ + ": cannot allocate a command buffer: " + vk::resultName(result));
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  f_.vkBeginCommandBuffer(cb, &begin);
  if (timestamps) {
    f_.vkCmdResetQueryPool(cb, queries_, 0, static_cast<uint32_t>(count + 1));
    f_.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_, 0);
  }
  auto barrier = [&](VkPipelineStageFlags dstStage, VkAccessFlags dstAccess) {
    VkMemoryBarrier m{};
    m.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    m.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    m.dstAccessMask = dstAccess;
    f_.vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, dstStage, 0, 1, &m, 0,
                            nullptr, 0, nullptr);
  };
  // What the dispatches since the last barrier read and wrote.
  std::vector<Range> read, written;
  for (size_t i = 0; i < count; ++i) {
    const DispatchDesc &d = program_.dispatches[i];
    std::vector<Range> reads, writes;
    for (size_t b = 0; b < d.bindings.size(); ++b) {
      const TensorDesc &t = program_.tensors[d.bindings[b]];
      Range r{t.storage, t.offset, t.offset + t.bytes()};
      (b + d.results < d.bindings.size() ? reads : writes).push_back(r);
    }
    bool hazard = timestamps; // timed dispatches run one after the other
    for (const Range &r : reads)
      hazard = hazard || overlapsAny(r, written);
    for (const Range &w : writes)
      hazard = hazard || overlapsAny(w, written) || overlapsAny(w, read);
    if (hazard && i > 0) {
      barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
      read.clear();
      written.clear();
    }
    read.insert(read.end(), reads.begin(), reads.end());
    written.insert(written.end(), writes.begin(), writes.end());
    const Kernel &k = kernels_[d.kernel];
    f_.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.pipeline);
    f_.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, k.layout, 0, 1, &sets_[i], 0,
                               nullptr);
    f_.vkCmdDispatch(cb, static_cast<uint32_t>(d.grid[0]), static_cast<uint32_t>(d.grid[1]),
                     static_cast<uint32_t>(d.grid[2]));
    if (timestamps)
      f_.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, queries_,
                             static_cast<uint32_t>(i + 1));
  }
  // The host reads the results after the fence.
  barrier(VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  result = f_.vkEndCommandBuffer(cb);
  if (result != VK_SUCCESS)
    throw ExecutionError(name_ + ": cannot record the dispatches: " + vk::resultName(result));
  recorded_[{count, timestamps}] = cb;
  return cb;
}

void VulkanExecutor::runPrefix(size_t count, std::vector<KernelTime> *times) {
  if (count == 0)
    return;
  if (times && !queries_)
    throw ExecutionError(name_ + ": its compute queue has no timestamps, which profiling needs");
  VkCommandBuffer cb = record(count, times != nullptr);
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cb;
  VkResult result = f_.vkResetFences(device_, 1, &fence_);
  if (result == VK_SUCCESS)
    result = f_.vkQueueSubmit(queue_, 1, &submit, fence_);
  if (result == VK_SUCCESS)
    result = f_.vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX);
  if (result != VK_SUCCESS)
    throw ExecutionError(name_ + ": running the dispatches failed: " + vk::resultName(result));
  if (!times)
    return;
  std::vector<uint64_t> stamps(count + 1);
  result = f_.vkGetQueryPoolResults(
      device_, queries_, 0, static_cast<uint32_t>(count + 1), stamps.size() * sizeof(uint64_t),
      stamps.data(), sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
  if (result != VK_SUCCESS)
    throw ExecutionError(name_ + ": reading the timestamps failed: " + vk::resultName(result));
  uint64_t mask = timestampBits_ >= 64 ? ~0ull : (1ull << timestampBits_) - 1;
  double period = properties_.limits.timestampPeriod * 1e-9; // seconds per tick
  for (size_t i = 0; i < count; ++i) {
    KernelTime &t = (*times)[program_.dispatches[i].kernel];
    t.seconds += static_cast<double>((stamps[i + 1] - stamps[i]) & mask) * period;
    ++t.calls;
  }
}

VulkanExecutor::~VulkanExecutor() {
  if (!device_)
    return;
  if (!loaded_) { // nothing but the device was created
    if (auto destroy = reinterpret_cast<PFN_vkDestroyDevice>(
            instance_->vkGetDeviceProcAddr(device_, "vkDestroyDevice")))
      destroy(device_, nullptr);
    return;
  }
  f_.vkDeviceWaitIdle(device_);
  if (queries_)
    f_.vkDestroyQueryPool(device_, queries_, nullptr);
  if (fence_)
    f_.vkDestroyFence(device_, fence_, nullptr);
  if (commandPool_)
    f_.vkDestroyCommandPool(device_, commandPool_, nullptr); // frees the command buffers
  if (pool_)
    f_.vkDestroyDescriptorPool(device_, pool_, nullptr); // frees the sets
  for (Kernel &k : kernels_) {
    if (k.pipeline)
      f_.vkDestroyPipeline(device_, k.pipeline, nullptr);
    if (k.layout)
      f_.vkDestroyPipelineLayout(device_, k.layout, nullptr);
    if (k.setLayout)
      f_.vkDestroyDescriptorSetLayout(device_, k.setLayout, nullptr);
    if (k.module)
      f_.vkDestroyShaderModule(device_, k.module, nullptr);
  }
  for (Block *b : {&parameters_, &arena_}) {
    if (b->buffer)
      f_.vkDestroyBuffer(device_, b->buffer, nullptr);
    if (b->memory)
      f_.vkFreeMemory(device_, b->memory, nullptr); // unmaps
  }
  f_.vkDestroyDevice(device_, nullptr);
}

} // namespace

std::unique_ptr<Executor> createVulkanExecutor(const std::vector<VulkanKernels> &variants,
                                               const VulkanSettings &settings, size_t &chosen,
                                               std::string &error) {
  auto executor = std::make_unique<VulkanExecutor>();
  if (!executor->init(variants, settings, chosen, error))
    return nullptr;
  return executor;
}

} // namespace bertc::rt
