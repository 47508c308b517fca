//===- CpuFeatures.h - The x86 features a compiled program needs -*- C++ -*-===//
//
// The CPU back end compiles for one CPU (`bertc compile --cpu NAME`) and
// records, in the program, which of the features below that CPU has: the
// ones whose instructions the generated code may hold. Before the CPU
// executor runs a kernel, the runtime asks CPUID (and the operating
// system's saved register state, XCR0) whether this machine has each of
// them, and refuses to run, naming the missing ones, where it does not.
// Both sides use this table, by LLVM's feature names.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_CPUFEATURES_H
#define BERTC_RUNTIME_CPUFEATURES_H

#include <string>
#include <vector>

namespace bertc::rt {

/// Register state the operating system must save for a feature's registers.
enum class OsState {
  None,   ///< xmm and general registers only.
  Avx,    ///< ymm (XCR0 bits 1, 2).
  Avx512, ///< ymm, zmm and the mask registers (XCR0 bits 1, 2, 5, 6, 7).
  Amx,    ///< The tile registers (XCR0 bits 17, 18).
};

/// An x86 feature: LLVM's name for it, the flag /proc/cpuinfo shows for it
/// on Linux, and the CPUID bit that reports it.
struct CpuFeature {
  const char *llvmName;
  const char *linuxFlag;
  unsigned leaf, subleaf;
  char reg; ///< 'a', 'b', 'c' or 'd': EAX ... EDX.
  unsigned bit;
  OsState state;
};

/// Every feature a program may require, base ISA first.
const std::vector<CpuFeature> &knownCpuFeatures();

/// The LLVM names of the known features this machine and its operating
/// system support.
std::vector<std::string> hostCpuFeatures();

/// The features of `required` that this machine lacks (names not in the
/// table count as lacking: this runtime cannot tell), in `required`'s order.
std::vector<std::string> missingCpuFeatures(const std::vector<std::string> &required);

/// Asks Linux for the AMX tile data state (arch_prctl ARCH_REQ_XCOMP_PERM,
/// XFEATURE_XTILEDATA), which it grants a process only on request: once
/// per process, before the first kernel that uses tiles (the kernels load
/// their tile configuration themselves, on whichever thread runs them).
/// False, with `error` saying why, where the kernel refuses or has no such
/// request; the answer of the first call is kept.
bool requestAmxTileData(std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_CPUFEATURES_H
