//===- Compiled.cpp - A compiled program, for each target it holds --------===//
#include "runtime/Compiled.h"
#include "runtime/CpuFeatures.h"

#include "runtime/VulkanExecutor.h"

namespace bertc::rt {

bool DeviceChoice::parse(const std::string &text, DeviceChoice &out, std::string &error) {
  if (text == "cpu") {
    out.kind = Kind::Cpu;
    return true;
  }
  if (text.rfind("vulkan", 0) == 0) {
    std::string rest = text.substr(6);
    out.kind = Kind::Vulkan;
    out.index = 0;
    if (rest.empty())
      return true;
    if (rest[0] == ':' && rest.size() > 1 && rest.size() < 6 &&
        rest.find_first_not_of("0123456789", 1) == std::string::npos) {
      out.index = std::stoi(rest.substr(1));
      return true;
    }
  }
  error = "--device must be cpu, vulkan or vulkan:N (got '" + text + "')";
  return false;
}

namespace {

std::shared_ptr<Program> parseProgram(const char *json, const char *what, std::string &error) {
  Json parsed;
  auto program = std::make_shared<Program>();
  if (!Json::parse(json, parsed, error) || !Program::fromJson(parsed, *program, error)) {
    error = std::string("the embedded ") + what + " program is damaged: " + error;
    return nullptr;
  }
  return program;
}

/// The targets' programs must differ in their grids only.
bool samePlan(const Program &a, const Program &b) {
  if (a.tensors.size() != b.tensors.size() || a.dispatches.size() != b.dispatches.size() ||
      a.kernels != b.kernels || a.parameterBytes != b.parameterBytes ||
      a.activationBytes != b.activationBytes || a.forwardDispatches != b.forwardDispatches ||
      a.updateDispatches != b.updateDispatches)
    return false;
  for (size_t i = 0; i < a.tensors.size(); ++i)
    if (a.tensors[i].offset != b.tensors[i].offset || a.tensors[i].shape != b.tensors[i].shape ||
        a.tensors[i].storage != b.tensors[i].storage)
      return false;
  for (size_t i = 0; i < a.dispatches.size(); ++i)
    if (a.dispatches[i].kernel != b.dispatches[i].kernel ||
        a.dispatches[i].bindings != b.dispatches[i].bindings)
      return false;
  return true;
}

} // namespace

bool CompiledProgram::fromSymbols(const ProgramSymbols &s, CompiledProgram &out,
                                  std::string &error) {
  out = CompiledProgram();
  if (s.cpuProgram) {
    if (!(out.cpu_ = parseProgram(s.cpuProgram, "CPU", error)))
      return false;
    if (!s.kernels || !s.kernelCount ||
        static_cast<int64_t>(out.cpu_->kernels.size()) != *s.kernelCount) {
      error = "the embedded program and kernel table disagree";
      return false;
    }
    out.kernels_ = s.kernels;
  }
  if (s.vulkanProgram) {
    Json parsed;
    if (!Json::parse(s.vulkanProgram, parsed, error) || !parsed.isArray() ||
        parsed.items().empty()) {
      error = "the embedded Vulkan programs are damaged: " +
              (error.empty() ? std::string("not a list of programs") : error);
      return false;
    }
    if (!s.spirv || !s.spirvOffsets) {
      error = "the embedded Vulkan program has no SPIR-V modules";
      return false;
    }
    size_t module = 0;
    for (const Json &j : parsed.items()) {
      VulkanKernels v;
      if (!Program::fromJson(j, v.program, error)) {
        error = "the embedded Vulkan program is damaged: " + error;
        return false;
      }
      const Program &p = v.program;
      if (!out.vulkan_.empty() && (p.invocations <= out.vulkan_.back().program.invocations ||
                                   !samePlan(p, out.vulkan_.front().program))) {
        error = "the embedded Vulkan programs disagree";
        return false;
      }
      for (size_t k = 0; k < p.kernels.size() + p.subgroupKernels.size(); ++k, ++module) {
        int64_t begin = s.spirvOffsets[module], end = s.spirvOffsets[module + 1];
        if (begin < 0 || end <= begin) {
          std::string kernel =
              k < p.kernels.size()
                  ? p.kernels[k]
                  : p.kernels[p.subgroupKernels[k - p.kernels.size()]] + " (subgroup reductions)";
          error = "the embedded SPIR-V module of " + kernel + " (workgroups of " +
                  std::to_string(p.invocations) + ") is damaged";
          return false;
        }
        v.spirv.emplace_back(s.spirv + begin, s.spirv + end);
      }
      out.vulkan_.push_back(std::move(v));
    }
  }
  if (!out.cpu_ && out.vulkan_.empty()) {
    error = "not a bertc program (no bertc_program or bertc_vulkan_program)";
    return false;
  }
  if (out.cpu_ && !out.vulkan_.empty() && !samePlan(*out.cpu_, out.vulkan_.front().program)) {
    error = "the embedded CPU and Vulkan programs disagree";
    return false;
  }
  return true;
}

std::unique_ptr<Session> CompiledProgram::open(const DeviceChoice &device,
                                               std::string &error) const {
  bool vulkan = device.kind == DeviceChoice::Kind::Vulkan ||
                (device.kind == DeviceChoice::Kind::Default && !cpu_);
  if (!vulkan) {
    if (!cpu_) {
      error = "this program was compiled for Vulkan only (--target vulkan): use --device vulkan";
      return nullptr;
    }
    std::vector<std::string> missing = missingCpuFeatures(cpu_->cpuFeatures);
    if (!missing.empty()) {
      std::string names;
      for (const std::string &f : missing)
        names += (names.empty() ? "" : ", ") + f;
      error = "this program's kernels were compiled for CPU '" + cpu_->cpu +
              "' and this machine lacks " + names +
              ": compile with --cpu native here, or for a CPU this one covers (--cpu x86-64-v3 "
              "for AVX2, x86-64-v4 for AVX-512)";
      return nullptr;
    }
    if (cpu_->cpuAmx && !requestAmxTileData(error))
      return nullptr;
    return std::make_unique<Session>(*cpu_, kernels_, device.threads);
  }
  if (vulkan_.empty()) {
    error = "this program was compiled for the CPU only: compile with --target cpu,vulkan (or "
            "vulkan) to run it on a Vulkan device";
    return nullptr;
  }
  VulkanSettings settings;
  settings.device = device.index;
  settings.validation = device.validation;
  settings.subgroups = device.subgroups;
  settings.workgroupSize = device.workgroupSize;
  size_t chosen = 0;
  std::unique_ptr<Executor> executor = createVulkanExecutor(vulkan_, settings, chosen, error);
  if (!executor)
    return nullptr;
  return std::make_unique<Session>(vulkan_[chosen].program, std::move(executor));
}

} // namespace bertc::rt
