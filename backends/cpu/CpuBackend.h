//===- CpuBackend.h - Dispatch regions to native code -----------*- C++ -*-===//
//
// The CPU back end compiles the kernel module that buildProgram outlined
// (`func.func @kernel_N(tensors) -> tensors`) into native code with the
// kernel ABI both executors share:
//
//   void kernel_N_entry(void **bindings, int64_t x, int64_t y, int64_t z)
//
// runs workgroup (x, y, z) of the kernel's grid over its buffer bindings
// (inputs, then outputs). Steps: rewrite each kernel in destination-passing
// form over memrefs, tile its root op into an scf.forall whose iterations are
// the workgroups (producers fused in), vectorise, bufferize, replace the
// forall by the workgroup ids, lower to the LLVM dialect and add the entry
// wrappers, the kernel table and the program description.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_CPU_CPUBACKEND_H
#define BERTC_BACKENDS_CPU_CPUBACKEND_H

#include "runtime/Program.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace bertc::cpu {

/// How workgroup tiles are sized. The defaults suit CPU cores: tiles of
/// thousands of iterations, matmul tiles that keep their chunk of B in L2
/// and are multiples of the 6 x 16 register block.
struct WorkgroupTiles {
  /// Below this many loop iterations a kernel runs as one workgroup.
  int64_t minIterations = 4096;
  /// A kernel with producers fused into its root gets tiles of at most
  /// about this many elements (each producer keeps its tile as scratch).
  int64_t maxFusedTile = 8192;
  /// Largest matmul tile.
  int64_t maxMatmulRows = 192, maxMatmulCols = 256;
  /// Matmul tile rows are multiples of this; matmul tile columns and the
  /// last loop of other kernels, of colGranule.
  int64_t matmulRowGranule = 6, colGranule = 16;
};

struct CpuOptions {
  /// Workgroups to aim for per kernel: enough to keep every thread busy.
  int64_t targetWorkgroups = 32;
  /// Vectorise kernels (off: scalar loops, the reference code path).
  bool vectorize = true;
  /// Memory space of the kernels' scratch buffers (none: the default one).
  /// The Vulkan back end, which shares these steps, puts them in SPIR-V's
  /// Workgroup storage class, shared by the workgroup's invocations.
  mlir::Attribute scratchMemorySpace;
  /// Workgroup tiles that divide their loops, so that no scratch buffer has
  /// a dynamic size (which SPIR-V cannot allocate).
  bool evenTiles = false;
  WorkgroupTiles tiles;
};

/// Dialects and interfaces the CPU back end needs in its context.
void registerCpuBackend(mlir::DialectRegistry &registry);

/// Rewrites `kernels` in place as workgroup kernels over memrefs (tiled,
/// vectorised, bufferized, distributed) and sets each dispatch's grid.
mlir::LogicalResult buildWorkgroupKernels(mlir::ModuleOp kernels, rt::Program &program,
                                          const CpuOptions &options);

/// Lowers workgroup kernels in place to the LLVM dialect with the kernel ABI above,
/// and adds the globals
/// `bertc_program` (the program as JSON), `bertc_kernels` (entry pointers in
/// kernel order) and `bertc_kernel_count`.
mlir::LogicalResult lowerKernelsToLLVM(mlir::ModuleOp kernels, const rt::Program &program);

/// Translates an LLVM-dialect module to optimised LLVM IR for the host CPU
/// and prints it.
mlir::LogicalResult printLLVMIR(mlir::ModuleOp module, llvm::raw_ostream &os);

/// Translates, optimises and writes a relocatable object file for the host.
mlir::LogicalResult emitObjectFile(mlir::ModuleOp module, const std::string &path);

} // namespace bertc::cpu

#endif // BERTC_BACKENDS_CPU_CPUBACKEND_H
