//===- CpuFeatures.cpp - CPUID and XCR0 against the program's needs -------===//
#include "runtime/CpuFeatures.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace bertc::rt {

const std::vector<CpuFeature> &knownCpuFeatures() {
  using S = OsState;
  static const std::vector<CpuFeature> table = {
      {"sse3", "pni", 1, 0, 'c', 0, S::None},
      {"ssse3", "ssse3", 1, 0, 'c', 9, S::None},
      {"fma", "fma", 1, 0, 'c', 12, S::Avx},
      {"sse4.1", "sse4_1", 1, 0, 'c', 19, S::None},
      {"sse4.2", "sse4_2", 1, 0, 'c', 20, S::None},
      {"movbe", "movbe", 1, 0, 'c', 22, S::None},
      {"popcnt", "popcnt", 1, 0, 'c', 23, S::None},
      {"avx", "avx", 1, 0, 'c', 28, S::Avx},
      {"f16c", "f16c", 1, 0, 'c', 29, S::Avx},
      {"bmi", "bmi1", 7, 0, 'b', 3, S::None},
      {"avx2", "avx2", 7, 0, 'b', 5, S::Avx},
      {"bmi2", "bmi2", 7, 0, 'b', 8, S::None},
      {"avx512f", "avx512f", 7, 0, 'b', 16, S::Avx512},
      {"avx512dq", "avx512dq", 7, 0, 'b', 17, S::Avx512},
      {"avx512ifma", "avx512ifma", 7, 0, 'b', 21, S::Avx512},
      {"avx512cd", "avx512cd", 7, 0, 'b', 28, S::Avx512},
      {"avx512bw", "avx512bw", 7, 0, 'b', 30, S::Avx512},
      {"avx512vl", "avx512vl", 7, 0, 'b', 31, S::Avx512},
      {"avx512vbmi", "avx512vbmi", 7, 0, 'c', 1, S::Avx512},
      {"avx512vbmi2", "avx512_vbmi2", 7, 0, 'c', 6, S::Avx512},
      {"gfni", "gfni", 7, 0, 'c', 8, S::None},
      {"avx512vnni", "avx512_vnni", 7, 0, 'c', 11, S::Avx512},
      {"avx512bitalg", "avx512_bitalg", 7, 0, 'c', 12, S::Avx512},
      {"avx512vpopcntdq", "avx512_vpopcntdq", 7, 0, 'c', 14, S::Avx512},
      {"avx512vp2intersect", "avx512_vp2intersect", 7, 0, 'd', 8, S::Avx512},
      {"amx-bf16", "amx_bf16", 7, 0, 'd', 22, S::Amx},
      {"avx512fp16", "avx512_fp16", 7, 0, 'd', 23, S::Avx512},
      {"amx-tile", "amx_tile", 7, 0, 'd', 24, S::Amx},
      {"amx-int8", "amx_int8", 7, 0, 'd', 25, S::Amx},
      {"avxvnni", "avx_vnni", 7, 1, 'a', 4, S::Avx},
      {"avx512bf16", "avx512_bf16", 7, 1, 'a', 5, S::Avx512},
      {"lzcnt", "abm", 0x80000001u, 0, 'c', 5, S::None},
      {"sse4a", "sse4a", 0x80000001u, 0, 'c', 6, S::None},
      {"prfchw", "3dnowprefetch", 0x80000001u, 0, 'c', 8, S::None},
  };
  return table;
}

namespace {

struct Registers {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

/// CPUID leaf `leaf`, sub-leaf `subleaf` (zeros where the CPU reports no
/// such leaf).
Registers cpuid(unsigned leaf, unsigned subleaf) {
  Registers r;
#if defined(__x86_64__) || defined(__i386__)
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d))
    return Registers();
#else
  (void)leaf;
  (void)subleaf;
#endif
  return r;
}

/// The register state the operating system saves (XCR0), 0 without XSAVE.
uint64_t savedState() {
#if defined(__x86_64__) || defined(__i386__)
  constexpr unsigned kOsxsave = 1u << 27;
  if (!(cpuid(1, 0).c & kOsxsave))
    return 0;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#else
  return 0;
#endif
}

bool stateSaved(OsState state, uint64_t xcr0) {
  auto all = [&](uint64_t bits) { return (xcr0 & bits) == bits; };
  switch (state) {
  case OsState::None:
    return true;
  case OsState::Avx:
    return all(0x6);
  case OsState::Avx512:
    return all(0xe6);
  case OsState::Amx:
    return all(0x60000);
  }
  return false;
}

bool hasFeature(const CpuFeature &f, uint64_t xcr0) {
  Registers r = cpuid(f.leaf, f.subleaf);
  unsigned word = f.reg == 'a' ? r.a : f.reg == 'b' ? r.b : f.reg == 'c' ? r.c : r.d;
  return ((word >> f.bit) & 1) && stateSaved(f.state, xcr0);
}

} // namespace

std::vector<std::string> hostCpuFeatures() {
  uint64_t xcr0 = savedState();
  std::vector<std::string> names;
  for (const CpuFeature &f : knownCpuFeatures())
    if (hasFeature(f, xcr0))
      names.emplace_back(f.llvmName);
  return names;
}

std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required) {
  std::vector<std::string> host = hostCpuFeatures(), missing;
  for (const std::string &name : required)
    if (std::find(host.begin(), host.end(), name) == host.end())
      missing.push_back(name);
  return missing;
}

bool requestAmxTileData(std::string &error) {
  static std::once_flag once;
  static std::string refusal;
  std::call_once(once, [] {
#if defined(__linux__) && defined(__x86_64__) && defined(SYS_arch_prctl)
    constexpr int kReqXcompPerm = 0x1023; // ARCH_REQ_XCOMP_PERM
    constexpr int kXtileData = 18;        // XFEATURE_XTILEDATA
    if (syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) != 0)
      refusal = std::string("the operating system refused the AMX tile state "
                            "(arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): ") +
                std::strerror(errno) +
                "; this program's bf16 kernels use AMX tiles: compile it with --cpu naming a "
                "CPU without AMX (e.g. x86-64-v4) to run without them";
#else
    refusal = "AMX tiles need Linux on x86-64 (arch_prctl ARCH_REQ_XCOMP_PERM); compile with "
              "--cpu naming a CPU without AMX (e.g. x86-64-v4)";
#endif
  });
  error = refusal;
  return refusal.empty();
}

} // namespace bertc::rt
