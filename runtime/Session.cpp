//===- Session.cpp - A compiled program's memory and execution ------------===//
#include "runtime/Session.h"

#include "runtime/Safetensors.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace bertc::rt {

namespace {

struct FreeDeleter {
  void operator()(char *p) const { std::free(p); }
};
using Storage64 = std::unique_ptr<char, FreeDeleter>;

Storage64 allocate(int64_t bytes) {
  size_t size = static_cast<size_t>((std::max<int64_t>(bytes, 64) + 63) / 64 * 64);
  char *p = static_cast<char *>(std::aligned_alloc(64, size));
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, size);
  return Storage64(p);
}

uint64_t hashName(const std::string &s) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

} // namespace

struct Session::Impl {
  Storage64 parameters;
  Storage64 arena;
  tbb::task_arena threads;
  /// Per-dispatch binding pointers, computed once.
  std::vector<std::vector<void *>> bindings;
  bool profiling = false;
  std::vector<KernelTime> times;
};

Session::Session(Program program, const KernelFn *kernels, int threads)
    : program_(std::move(program)), kernels_(kernels), impl_(std::make_unique<Impl>()) {
  impl_->parameters = allocate(program_.parameterBytes);
  impl_->arena = allocate(program_.activationBytes);
  int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  impl_->threads.initialize(std::max(1, n));
  for (const DispatchDesc &d : program_.dispatches) {
    std::vector<void *> ptrs;
    for (int t : d.bindings)
      ptrs.push_back(data(t));
    impl_->bindings.push_back(std::move(ptrs));
  }
}

Session::~Session() = default;

void *Session::data(int id) {
  const TensorDesc &t = program_.tensors[id];
  char *base = t.storage == Storage::Parameter ? impl_->parameters.get() : impl_->arena.get();
  return base + t.offset;
}

const void *Session::data(int id) const { return const_cast<Session *>(this)->data(id); }

void Session::initParameters(uint64_t seed) {
  for (const ParameterDesc &p : program_.parameters) {
    const TensorDesc &t = program_.tensors[p.tensor];
    int64_t n = t.elements();
    std::mt19937_64 rng(seed ^ hashName(p.name));
    std::normal_distribution<double> normal(0.0, p.std > 0 ? p.std : 1.0);
    for (int64_t i = 0; i < n; ++i) {
      double v = p.init == "ones" ? 1.0 : p.init == "zeros" ? 0.0 : normal(rng);
      if (t.dtype == DType::F64)
        static_cast<double *>(data(p.tensor))[i] = v;
      else
        static_cast<float *>(data(p.tensor))[i] = static_cast<float>(v);
    }
  }
}

namespace {

std::string spellShape(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

/// Checks that `file` holds `name` with the type and shape of `t`.
bool matches(const SafetensorsFile &file, const std::string &path, const std::string &name,
             const TensorDesc &t, std::string &error) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) {
    error = path + ": tensor '" + name + "' is missing";
    return false;
  }
  if (it->second.dtype != t.dtype) {
    error = path + ": tensor '" + name + "' is " + dtypeName(it->second.dtype) +
            ", the model needs " + dtypeName(t.dtype);
    return false;
  }
  if (it->second.shape != t.shape) {
    error = path + ": tensor '" + name + "' has shape " + spellShape(it->second.shape) +
            ", the model needs " + spellShape(t.shape);
    return false;
  }
  return true;
}

} // namespace

bool Session::loadParameters(const std::string &path, std::string &error, int *extra,
                             std::map<std::string, std::string> *metadata) {
  SafetensorsFile file;
  if (!readSafetensors(path, file, error))
    return false;
  if (metadata)
    *metadata = file.metadata;
  // Check everything before changing anything.
  for (const ParameterDesc &p : program_.parameters)
    if (!matches(file, path, p.name, program_.tensors[p.tensor], error))
      return false;
  size_t stateFound = 0;
  for (const NamedTensor &s : program_.state)
    stateFound += file.tensors.count(s.name);
  bool withState = !program_.state.empty() && stateFound == program_.state.size();
  if (withState)
    for (const NamedTensor &s : program_.state)
      if (!matches(file, path, s.name, program_.tensors[s.tensor], error))
        return false;
  for (const ParameterDesc &p : program_.parameters) {
    const StoredTensor &s = file.tensors.at(p.name);
    std::memcpy(data(p.tensor), s.data.data(), s.data.size());
  }
  if (withState)
    for (const NamedTensor &n : program_.state) {
      const StoredTensor &s = file.tensors.at(n.name);
      std::memcpy(data(n.tensor), s.data.data(), s.data.size());
    }
  if (extra)
    *extra = static_cast<int>(file.tensors.size() - program_.parameters.size() -
                              (withState ? stateFound : 0));
  return true;
}

bool Session::loadMatchingParameters(const std::string &path, std::string &error,
                                     int &loaded) {
  SafetensorsFile file;
  if (!readSafetensors(path, file, error))
    return false;
  loaded = 0;
  for (const ParameterDesc &p : program_.parameters) {
    const TensorDesc &t = program_.tensors[p.tensor];
    auto it = file.tensors.find(p.name);
    if (it == file.tensors.end() || it->second.dtype != t.dtype || it->second.shape != t.shape)
      continue;
    std::memcpy(data(p.tensor), it->second.data.data(), it->second.data.size());
    ++loaded;
  }
  if (loaded == 0) {
    error = path + ": no tensor matches a parameter of this model";
    return false;
  }
  return true;
}

bool Session::saveParameters(const std::string &path, std::string &error, bool withState,
                             const std::map<std::string, std::string> &metadata) const {
  std::vector<TensorView> views;
  for (const ParameterDesc &p : program_.parameters) {
    const TensorDesc &t = program_.tensors[p.tensor];
    views.push_back({p.name, t.dtype, t.shape, data(p.tensor)});
  }
  if (withState)
    for (const NamedTensor &n : program_.state) {
      const TensorDesc &t = program_.tensors[n.tensor];
      views.push_back({n.name, t.dtype, t.shape, data(n.tensor)});
    }
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = "pt";
  meta["model"] = program_.model;
  return writeSafetensors(path, views, meta, error);
}

bool Session::saveOutputs(const std::string &path, const std::string &prefix,
                          std::string &error) const {
  std::vector<TensorView> views;
  for (const NamedTensor &o : program_.outputs) {
    if (o.name.compare(0, prefix.size(), prefix) != 0)
      continue;
    const TensorDesc &t = program_.tensors[o.tensor];
    views.push_back({o.name.substr(prefix.size()), t.dtype, t.shape, data(o.tensor)});
  }
  return writeSafetensors(path, views, {{"model", program_.model}, {"task", program_.task}}, error);
}

void Session::setProfiling(bool on) {
  impl_->profiling = on;
  impl_->times.assign(program_.kernels.size(), KernelTime());
}

const std::vector<Session::KernelTime> &Session::kernelTimes() const { return impl_->times; }

void Session::run() { runDispatches(program_.dispatches.size()); }

void Session::runForward() { runDispatches(static_cast<size_t>(program_.forwardDispatches)); }

void Session::runDispatches(size_t count) {
  impl_->threads.execute([&] {
    for (size_t i = 0; i < count; ++i) {
      const DispatchDesc &d = program_.dispatches[i];
      auto start = std::chrono::steady_clock::now();
      KernelFn fn = kernels_[d.kernel];
      void **ptrs = impl_->bindings[i].data();
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
      if (impl_->profiling) {
        KernelTime &t = impl_->times[d.kernel];
        t.seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++t.calls;
      }
    }
  });
}

} // namespace bertc::rt
