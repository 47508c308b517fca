//===- Pipelines.h - The compiler's graph-level pipelines -------*- C++ -*-===//
//
// What `bertc compile` runs between the model's graph and the back ends, as
// pass pipelines (each registered in bertc-opt under its name):
//
//   bertc-training-graph   tag kernel kinds, key dropout, form attention,
//                          differentiate, fuse cross-entropy, AdamW,
//                          mixed precision (bf16)
//   bertc-graph-to-linalg  the graph ops as linalg on tensors
//   bertc-dispatch-regions fuse elementwise chains, form dispatch regions,
//                          fuse reductions, matmul epilogues, horizontally
//
// after which buildProgram (passes/program/BuildProgram.h) schedules the dispatches
// and outlines one kernel per distinct region.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_PIPELINES_H
#define BERTC_PASSES_PIPELINES_H

#include <cstdint>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace bertc {

/// What the training graph appends to the model's forward graph.
struct TrainingGraphOptions {
  bool gradients = true;      ///< Differentiate the objective (`grad:NAME` outputs).
  bool optimizer = true;      ///< Then clipping and AdamW (needs gradients).
  bool fusion = true;         ///< Attention and cross-entropy as fused ops.
  bool biasCorrection = true; ///< AdamW with bias correction (HuggingFace's form).
  bool bf16 = false;          ///< Matmuls on bf16 operands (bertc-mixed-precision).
  /// Gradients summed in buffers over a step's micro-batches, the update
  /// run apart (bertc-accumulate-gradients).
  bool accumulate = false;
};

/// Fusion of the linalg graph into dispatch regions.
struct DispatchOptions {
  bool fusion = true;       ///< Off: one dispatch per linalg op.
  unsigned maxBindings = 0; ///< Most buffers one dispatch binds (0: no bound).
};

/// On a module of the graph dialect: a forward graph (gradients off) or a
/// training step.
void buildTrainingGraphPipeline(mlir::OpPassManager &pm, const TrainingGraphOptions &options);

/// The graph as linalg on tensors, canonicalized.
void buildGraphToLinalgPipeline(mlir::OpPassManager &pm, const DispatchOptions &options);

/// Linalg on tensors grouped into graph.dispatch regions.
void buildDispatchRegionsPipeline(mlir::OpPassManager &pm, const DispatchOptions &options);

/// Registers the graph-level pipelines above, and bertc-dispatch (the last
/// two in one), for bertc-opt.
void registerGraphPipelines();

} // namespace bertc

#endif // BERTC_PASSES_PIPELINES_H
