//===- Loader.h - Programs compiled into shared libraries -------*- C++ -*-===//
//
// `bertc compile --emit=shared -o lib.so` puts a program and its kernels
// (native, SPIR-V or both, as --target says) in a shared library; tests and
// benchmarks load it here and run it in Sessions.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_LOADER_H
#define BERTC_RUNTIME_LOADER_H

#include "runtime/Compiled.h"

#include <memory>
#include <string>

namespace bertc::rt {

class LoadedProgram {
public:
  ~LoadedProgram();
  /// Opens `path`; on failure returns null and sets `error`.
  static std::unique_ptr<LoadedProgram> open(const std::string &path, std::string &error);

  const CompiledProgram &compiled() const { return compiled_; }
  const Program &program() const { return compiled_.program(); }
  /// A fresh session on the CPU; the library must hold CPU kernels.
  std::unique_ptr<Session> newSession(int threads) const;
  /// A fresh session on `device`, or null with the reason.
  std::unique_ptr<Session> newSession(const DeviceChoice &device, std::string &error) const {
    return compiled_.open(device, error);
  }

private:
  LoadedProgram() = default;
  void *handle_ = nullptr;
  CompiledProgram compiled_;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_LOADER_H
