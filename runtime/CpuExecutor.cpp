//===- CpuExecutor.cpp - Dispatches as oneTBB parallel loops --------------===//
#include "runtime/Executor.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

namespace bertc::rt {

namespace {

struct FreeDeleter {
  void operator()(char *p) const { std::free(p); }
};
using Bytes64 = std::unique_ptr<char, FreeDeleter>;

/// Zeroed, 64-byte aligned.
Bytes64 allocate(int64_t bytes) {
  size_t size = static_cast<size_t>((std::max<int64_t>(bytes, 64) + 63) / 64 * 64);
  char *p = static_cast<char *>(std::aligned_alloc(64, size));
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, size);
  return Bytes64(p);
}

/// Each dispatch's workgroups in parallel with oneTBB, inside a task_arena
/// of the requested number of threads.
class CpuExecutor final : public Executor {
public:
  CpuExecutor(const Program &program, const KernelFn *kernels, int threads)
      : program_(program), kernels_(kernels) {
    parameters_ = allocate(program.parameterBytes);
    arena_ = allocate(program.activationBytes);
    int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    arenaThreads_.initialize(std::max(1, n));
    for (const DispatchDesc &d : program.dispatches) {
      std::vector<void *> ptrs;
      for (int t : d.bindings) {
        const TensorDesc &desc = program.tensors[t];
        char *base = desc.storage == Storage::Parameter ? parameters_.get() : arena_.get();
        ptrs.push_back(base + desc.offset);
      }
      bindings_.push_back(std::move(ptrs));
    }
  }

  char *parameters() override { return parameters_.get(); }
  char *arena() override { return arena_.get(); }
  std::string device() const override {
    int n = arenaThreads_.max_concurrency();
    return "cpu, " + std::to_string(n) + (n == 1 ? " thread" : " threads");
  }

  void run(size_t begin, size_t end, std::vector<KernelTime> *times) override {
    arenaThreads_.execute([&] {
      for (size_t i = begin; i < end; ++i) {
        const DispatchDesc &d = program_.dispatches[i];
        auto start = std::chrono::steady_clock::now();
        KernelFn fn = kernels_[d.kernel];
        void **ptrs = bindings_[i].data();
        int64_t gx = d.grid[0], gy = d.grid[1], total = d.grid[0] * d.grid[1] * d.grid[2];
        if (total == 1) {
          fn(ptrs, 0, 0, 0);
        } else {
          tbb::parallel_for(tbb::blocked_range<int64_t>(0, total, 1),
                            [&](const tbb::blocked_range<int64_t> &r) {
                              for (int64_t w = r.begin(); w < r.end(); ++w)
                                fn(ptrs, w % gx, (w / gx) % gy, w / (gx * gy));
                            });
        }
        if (times) {
          KernelTime &t = (*times)[d.kernel];
          t.seconds +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          ++t.calls;
        }
      }
    });
  }

private:
  Program program_;
  const KernelFn *kernels_;
  Bytes64 parameters_, arena_;
  tbb::task_arena arenaThreads_;
  /// Per-dispatch binding pointers, computed once.
  std::vector<std::vector<void *>> bindings_;
};

} // namespace

std::unique_ptr<Executor> createCpuExecutor(const Program &program, const KernelFn *kernels,
                                            int threads) {
  return std::make_unique<CpuExecutor>(program, kernels, threads);
}

} // namespace bertc::rt
