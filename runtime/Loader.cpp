//===- Loader.cpp - Programs compiled into shared libraries ---------------===//
#include "runtime/Loader.h"

#include <dlfcn.h>

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
  auto json = static_cast<const char *>(dlsym(p->handle_, "bertc_program"));
  p->kernels_ = static_cast<const KernelFn *>(dlsym(p->handle_, "bertc_kernels"));
  auto count = static_cast<const int64_t *>(dlsym(p->handle_, "bertc_kernel_count"));
  if (!json || !p->kernels_ || !count) {
    error = path + ": not a bertc program (missing bertc_program or bertc_kernels)";
    return nullptr;
  }
  Json parsed;
  if (!Json::parse(json, parsed, error) || !Program::fromJson(parsed, p->program_, error)) {
    error = path + ": " + error;
    return nullptr;
  }
  if (static_cast<int64_t>(p->program_.kernels.size()) != *count) {
    error = path + ": program and kernel table disagree";
    return nullptr;
  }
  return p;
}

} // namespace bertc::rt
