//===- CpuBackend.h - Dispatch regions to native code -----------*- C++ -*-===//
//
// The CPU back end compiles the kernel module that buildProgram outlined
// (`func.func @kernel_N(tensors) -> tensors`) into native code with the
// kernel ABI both executors share:
//
//   void kernel_N_entry(void **bindings, int64_t x, int64_t y, int64_t z)
//
// runs workgroup (x, y, z) of the kernel's grid over its buffer bindings
// (inputs, then outputs). Two pipelines, registered in bertc-opt:
//  - bertc-cpu-workgroup-kernels: destination-passing form over memrefs,
//    the strategy (bertc-cpu-select-strategy: workgroup tiles, register
//    blocks, recorded on each kernel), tiling of each root op into an
//    scf.forall of workgroups (producers fused in), vector code,
//    bufferization, the forall replaced by the workgroup ids and the grid
//    recorded as `bertc.grid`;
//  - bertc-cpu-lower-to-llvm: the LLVM dialect, the entry wrappers and the
//    kernel table.
// Between them readWorkgroupGrids (backends/common/Strategy.h) copies the
// grids into the program, and after them addProgramGlobal adds it.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_CPU_CPUBACKEND_H
#define BERTC_BACKENDS_CPU_CPUBACKEND_H

#include "runtime/Program.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace mlir {
class DialectRegistry;
class OpPassManager;
} // namespace mlir

namespace llvm {
class raw_ostream;
class StringRef;
} // namespace llvm

namespace bertc::cpu {

struct CpuPipelineOptions {
  /// Workgroups to aim for per kernel; 0: four per hardware thread of the
  /// compiling machine, at least 8. Enough to keep every thread of the
  /// runtime (all of them by default) busy when tiles are uneven; every
  /// further split of a matmul's output makes its workgroups read their
  /// panels of A and B once more (on 2 threads, 8 instead of 32 took the
  /// BERT-mini step's matmuls from 291 to 314 GFLOP/s and the long products
  /// over the vocabulary from 244-281 to 309-351).
  int64_t targetWorkgroups = 0;
  /// Vectorise kernels (off: scalar loops, the reference code path).
  bool vectorize = true;
  /// Width of the CPU's vector registers (256: AVX2, 16 of them; 512:
  /// AVX-512, 32), which sizes the matmul register blocks.
  int64_t vectorBits = 256;
  /// The CPU has AVX512-BF16's vdpbf16ps at that width (bf16 matmuls).
  bool bf16Dot = false;
  /// bf16 matmuls' blocks of 32 rows on AMX tiles (1), as loops of the same
  /// layouts (2: a check on CPUs without AMX), or not (0).
  int64_t amx = 0;
};

/// Dialects, interfaces and translations the CPU back end needs in its
/// context.
void registerCpuBackend(mlir::DialectRegistry &registry);

/// bertc-cpu-workgroup-kernels and bertc-cpu-lower-to-llvm, and every CPU
/// back-end pass, for bertc-opt.
void registerCpuPipelines();

/// Workgroup kernels over memrefs, each with its `bertc.grid`.
void buildCpuWorkgroupKernelsPipeline(mlir::OpPassManager &pm, const CpuPipelineOptions &options);

/// Workgroup kernels to the LLVM dialect with the kernel ABI above, the
/// globals `bertc_kernels` (entry pointers in kernel order) and
/// `bertc_kernel_count`.
void buildCpuLowerToLLVMPipeline(mlir::OpPassManager &pm);

/// Adds `bertc_program`, the program as JSON, to an LLVM-dialect module.
void addProgramGlobal(mlir::ModuleOp module, const rt::Program &program);

/// Runs bertc-cpu-workgroup-kernels on `kernels` and sets each dispatch's
/// grid.
mlir::LogicalResult buildWorkgroupKernels(mlir::ModuleOp kernels, rt::Program &program,
                                          const CpuPipelineOptions &options);

/// Runs bertc-cpu-lower-to-llvm on workgroup kernels and adds the program.
mlir::LogicalResult lowerKernelsToLLVM(mlir::ModuleOp kernels, const rt::Program &program);

/// Records in `program` the CPU its kernels are compiled for: `cpu` (an
/// LLVM x86 CPU name such as x86-64-v3 or znver4, or "native": this
/// machine's) and the features of runtime/CpuFeatures.h it has, which the
/// runtime checks before it runs a kernel. False, with `error` set, for an
/// unknown CPU.
bool describeCpu(llvm::StringRef cpu, rt::Program &program, std::string &error);

/// The vector width the kernels of a program describeCpu filled in may use:
/// 512 with AVX-512 (avx512f), otherwise 256 (AVX2).
int64_t vectorBits(const rt::Program &program);

/// Whether the kernels of a program describeCpu filled in may use
/// vdpbf16ps at vectorBits(program): avx512bf16 (and avx512vl below 512).
bool hasBf16Dot(const rt::Program &program);

/// Whether the kernels of a program describeCpu filled in may use AMX's
/// bf16 tiles (amx-tile and amx-bf16).
bool hasAmx(const rt::Program &program);

/// Translates an LLVM-dialect module to optimised LLVM IR for `cpu` and
/// prints it.
mlir::LogicalResult printLLVMIR(mlir::ModuleOp module, llvm::StringRef cpu, llvm::raw_ostream &os);

/// Translates, optimises and writes a relocatable object file for `cpu`.
mlir::LogicalResult emitObjectFile(mlir::ModuleOp module, llvm::StringRef cpu,
                                   const std::string &path);

} // namespace bertc::cpu

#endif // BERTC_BACKENDS_CPU_CPUBACKEND_H
