//===- Strategy.h - How each kernel is tiled, as attributes -----*- C++ -*-===//
//
// Each back end's strategy step (bertc-cpu-select-strategy,
// bertc-vulkan-select-strategy) decides, for every kernel, how it is cut
// into workgroups and how each workgroup's work becomes code, and writes
// the decision into the IR; every later step reads it there:
//
//   func.func @kernel_0(...) attributes {bertc.strategy = {...}} {
//     %r = linalg.matmul {bertc.workgroup_tiles = array<i64: 96, 128, 0>} ...
//
// - `bertc.workgroup_tiles` on each root op (an op whose result the kernel
//   writes): its tile per loop for one workgroup, 0 for a loop left whole.
//   A root without the attribute is one workgroup.
// - `bertc.strategy` on the kernel: the back end's choices for the code
//   inside a workgroup (register blocks, vector widths, invocations, ...),
//   a dictionary whose keys each back end documents.
// - `bertc.scratch_space` on the kernel: the memory space of its scratch
//   buffers (absent: the default one).
// - `bertc.grid` on the kernel once bertc-distribute-workgroups ran: its
//   workgroup grid (x, y, z).
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_BACKENDS_COMMON_STRATEGY_H
#define BERTC_BACKENDS_COMMON_STRATEGY_H

#include "runtime/Program.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "llvm/ADT/StringRef.h"

namespace bertc {

constexpr llvm::StringLiteral kStrategyAttr = "bertc.strategy";
constexpr llvm::StringLiteral kWorkgroupTilesAttr = "bertc.workgroup_tiles";
constexpr llvm::StringLiteral kScratchSpaceAttr = "bertc.scratch_space";
constexpr llvm::StringLiteral kGridAttr = "bertc.grid";

/// Dimensions of a workgroup grid.
constexpr int kGridDims = 3;

/// Limits the workgroup tiles are chosen within. The defaults suit CPU
/// cores: tiles of thousands of iterations, matmul tiles that keep their
/// chunk of B in L2 and are multiples of the 6 x 16 register block.
struct WorkgroupTileLimits {
  /// Workgroups to aim for per kernel.
  int64_t targetWorkgroups = 32;
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
  /// Tiles that divide their loops, so that no scratch buffer has a
  /// dynamic size (which SPIR-V cannot allocate).
  bool evenTiles = false;
  /// A batched matmul (or its epilogue) is split over its batches before
  /// its rows and columns, so that each workgroup reads every operand of its
  /// batches once and keeps them in cache, instead of several workgroups
  /// each reading the same batches for a part of the rows or columns.
  bool batchesFirst = false;
};

/// The ops whose results a kernel in destination-passing form writes, in
/// order: each is tiled into workgroups. A kernel of several (a
/// horizontally fused dispatch) gives each its own range of the grid.
llvm::SmallVector<mlir::TilingInterface> findRoots(mlir::Operation *kernel);

/// The tile of each of `root`'s loops for one workgroup (0: not split): the
/// outermost parallel loops (at most three) are halved, largest first, until
/// there are about `limits.targetWorkgroups` workgroups.
llvm::SmallVector<int64_t> chooseWorkgroupTiles(mlir::TilingInterface root,
                                                const WorkgroupTileLimits &limits);

/// Writes chooseWorkgroupTiles' choice on each root of every kernel of
/// `kernels` (func.func ops in destination-passing form).
void setWorkgroupTiles(mlir::ModuleOp kernels, const WorkgroupTileLimits &limits);

/// The blocks of the graph ops lowered in their kernels.
struct KernelOpBlocks {
  /// graph.attention: query rows per workgroup, keys per step.
  int64_t attentionRows = 128, attentionKeys = 64;
  /// graph.embedding_grad: blocks of the table's columns (workgroups).
  int64_t scatterColumnBlocks = 8;
  /// graph.cross_entropy_rows: rows of logits per workgroup.
  int64_t lossRows = 4;
};

/// Adds `attention_rows` and `attention_keys` to the strategy of every
/// kernel of `kernels` that holds a graph.attention,
/// `scatter_column_blocks` to that of every one that holds a
/// graph.embedding_grad, and `loss_rows` to that of every one that holds a
/// graph.cross_entropy_rows (bertc-lower-kernel-ops reads them).
void setKernelOpBlocks(mlir::ModuleOp kernels, const KernelOpBlocks &blocks);

/// Each integer entry of `kernel`'s `bertc.strategy`, or `otherwise`.
int64_t strategyValue(mlir::Operation *kernel, llvm::StringRef key, int64_t otherwise);

/// Sets every dispatch's grid from the `bertc.grid` of its kernel, found by
/// name among the ops of `kernels` (any symbol op: func.func, gpu.func).
mlir::LogicalResult readWorkgroupGrids(mlir::ModuleOp kernels, rt::Program &program);

} // namespace bertc

#endif // BERTC_BACKENDS_COMMON_STRATEGY_H
