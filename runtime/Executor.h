//===- Executor.h - Where a program's dispatches run ------------*- C++ -*-===//
//
// An executor owns the memory of a program's buffer plan (the parameter
// store and the activation arena, both visible to the host) and runs the
// program's dispatches in order. The CPU executor runs each dispatch's
// workgroups in parallel with oneTBB; the Vulkan executor records them into
// command buffers for a Vulkan device (runtime/VulkanExecutor.h).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_EXECUTOR_H
#define BERTC_RUNTIME_EXECUTOR_H

#include "runtime/Program.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bertc::rt {

/// The kernel ABI of native code: run workgroup (x, y, z) over the
/// bindings' base pointers.
using KernelFn = void (*)(void **bindings, int64_t x, int64_t y, int64_t z);

/// Time spent in one kernel, summed over its dispatches.
struct KernelTime {
  double seconds = 0;
  int64_t calls = 0;
};

/// A failure while running (a lost device): the executors throw it, the
/// command line reports it.
struct ExecutionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Executor {
public:
  virtual ~Executor() = default;
  /// Host-visible bytes of the parameter store (Program::parameterBytes)
  /// and of the activation arena (Program::activationBytes).
  virtual char *parameters() = 0;
  virtual char *arena() = 0;
  /// Runs dispatches [begin, end) of the program in order and waits for
  /// them (a whole step, its forward pass, a micro-batch's gradients, the
  /// update after them). With `times`, adds each dispatch's time to its
  /// kernel's entry. Throws ExecutionError where the executor cannot start
  /// past the first dispatch.
  virtual void run(size_t begin, size_t end, std::vector<KernelTime> *times) = 0;
  /// What runs the kernels, for reports: "cpu, 2 threads",
  /// "vulkan:0 (llvmpipe ...)".
  virtual std::string device() const = 0;
};

/// The CPU executor: `kernels[i]` runs `program.kernels[i]`; `threads` <= 0:
/// all cores.
std::unique_ptr<Executor> createCpuExecutor(const Program &program, const KernelFn *kernels,
                                            int threads);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_EXECUTOR_H
