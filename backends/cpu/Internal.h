//===- Internal.h - The CPU back end's strategy -----------------*- C++ -*-===//
#ifndef BERTC_BACKENDS_CPU_INTERNAL_H
#define BERTC_BACKENDS_CPU_INTERNAL_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

#include <optional>

namespace mlir {
class RewriterBase;
namespace linalg {
class LinalgOp;
} // namespace linalg
} // namespace mlir

namespace bertc::cpu {

/// Marks a bf16 block product of PairedMatmul.cpp for AMX tiles
/// (bertc-cpu-lower-amx).
constexpr llvm::StringLiteral kAmxTilesAttr = "bertc.amx_tiles";

/// The vector code of a kernel's workgroup: its `bertc.strategy`, which
/// bertc-cpu-select-strategy writes and bertc-cpu-vectorize reads (the keys
/// are the Passes.td's).
struct VectorStrategy {
  /// Matmul register block: rows x columns of accumulators (6 x 16 with
  /// ymm registers: 12 accumulators, two loads of B and six broadcasts of A
  /// per step of K).
  int64_t registerRows = 6, registerCols = 16;
  /// K chunk of a matmul.
  int64_t kChunk = 256;
  /// Pack each chunk of B a register block wide (1) or read B where it is
  /// (0).
  int64_t packB = 1;
  /// Elements per vector piece of other ops.
  int64_t vector = 16;
  /// Side of a transpose's blocks.
  int64_t transpose = 8;
  /// Larger static pieces are not unrolled into vector code.
  int64_t maxPieceElements = 1024;
  /// bf16 matmuls on AVX512-BF16's vdpbf16ps at this vector width (1), or
  /// on FMAs of the operands widened to f32 (0).
  int64_t bf16Dot = 0;
  /// bf16 panels' blocks of 32 rows on AMX tiles: 0 not, 1 on AMX's
  /// tdpbf16ps (bertc-cpu-lower-amx), 2 the same blocks of the same
  /// layouts computed by loops (a check of the blocks on CPUs without AMX).
  int64_t amx = 0;

  /// The strategy for vector registers of `bits` (256: AVX2's 16 ymm, the
  /// defaults above; 512: AVX-512's 32 zmm).
  static VectorStrategy forVectorBits(int64_t bits);

  mlir::DictionaryAttr toAttr(mlir::MLIRContext *ctx) const;
  /// The strategy of `kernel`; none without vector entries in its
  /// `bertc.strategy`.
  static std::optional<VectorStrategy> of(mlir::Operation *kernel);
};

/// Replaces a bf16 matmul panel (bertc-cpu-vectorize's: [batch 1,] M rows,
/// one register block of columns, one static chunk of K) by code that
/// consumes K in pairs (backends/cpu/PairedMatmul.cpp); fails, changing
/// nothing, on any other op.
mlir::LogicalResult lowerPairedPanel(mlir::RewriterBase &rewriter, mlir::linalg::LinalgOp op,
                                     const VectorStrategy &strategy);

} // namespace bertc::cpu

#endif // BERTC_BACKENDS_CPU_INTERNAL_H
