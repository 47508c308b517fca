//===- Internal.h - Steps of the CPU back end -------------------*- C++ -*-===//
#ifndef BERTC_BACKENDS_CPU_INTERNAL_H
#define BERTC_BACKENDS_CPU_INTERNAL_H

#include "backends/cpu/CpuBackend.h"

namespace bertc::cpu {

/// Tiles each workgroup's work for registers and caches and rewrites it with
/// vector ops (tensor level, before bufferization).
mlir::LogicalResult vectorizeKernels(mlir::ModuleOp kernels);

} // namespace bertc::cpu

#endif // BERTC_BACKENDS_CPU_INTERNAL_H
