//===- Loader.cpp - Programs compiled into shared libraries ---------------===//
#include "runtime/Loader.h"

#include <dlfcn.h>

#include <stdexcept>

namespace bertc::rt {

LoadedProgram::~LoadedProgram() {
  if (handle_)
    dlclose(handle_);
}

std::unique_ptr<LoadedProgram> LoadedProgram::open(const std::string &path, std::string &error) {
  std::unique_ptr<LoadedProgram> p(new LoadedProgram());
  p->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!p->handle_) {
    error = path + ": " + dlerror();
    return nullptr;
  }
  auto symbol = [&](const char *name) { return dlsym(p->handle_, name); };
  ProgramSymbols s;
  s.cpuProgram = static_cast<const char *>(symbol("bertc_program"));
  s.kernels = static_cast<const KernelFn *>(symbol("bertc_kernels"));
  s.kernelCount = static_cast<const int64_t *>(symbol("bertc_kernel_count"));
  s.vulkanProgram = static_cast<const char *>(symbol("bertc_vulkan_program"));
  s.spirv = static_cast<const uint32_t *>(symbol("bertc_spirv"));
  s.spirvOffsets = static_cast<const int64_t *>(symbol("bertc_spirv_offsets"));
  if (!CompiledProgram::fromSymbols(s, p->compiled_, error)) {
    error = path + ": " + error;
    return nullptr;
  }
  return p;
}

std::unique_ptr<Session> LoadedProgram::newSession(int threads) const {
  DeviceChoice cpu;
  cpu.kind = DeviceChoice::Kind::Cpu;
  cpu.threads = threads;
  std::string error;
  std::unique_ptr<Session> session = compiled_.open(cpu, error);
  if (!session)
    throw std::runtime_error(error);
  return session;
}

} // namespace bertc::rt
