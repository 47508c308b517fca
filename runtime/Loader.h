//===- Loader.h - Programs compiled into shared libraries -------*- C++ -*-===//
//
// `bertc compile --emit=so -o lib.so` puts a program and its kernels in a
// shared library; tests and benchmarks load it here and run it in a Session.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_LOADER_H
#define BERTC_RUNTIME_LOADER_H

#include "runtime/Session.h"

#include <memory>
#include <string>

namespace bertc::rt {

class LoadedProgram {
public:
  ~LoadedProgram();
  /// Opens `path`; on failure returns null and sets `error`.
  static std::unique_ptr<LoadedProgram> open(const std::string &path, std::string &error);

  const Program &program() const { return program_; }
  const KernelFn *kernels() const { return kernels_; }
  /// A fresh session over this program.
  std::unique_ptr<Session> newSession(int threads) const {
    return std::make_unique<Session>(program_, kernels_, threads);
  }

private:
  LoadedProgram() = default;
  void *handle_ = nullptr;
  Program program_;
  const KernelFn *kernels_ = nullptr;
};

} // namespace bertc::rt

#endif // BERTC_RUNTIME_LOADER_H
