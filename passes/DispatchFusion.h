//===- DispatchFusion.h - Merging a producer dispatch into its consumer -*- C++ -*-===//
//
// Vertical fusion at the level of dispatch regions, shared by the passes
// that decide which producers to merge (bertc-fuse-reductions,
// bertc-fuse-matmul-epilogues). The back end tiles the merged kernel by its
// root (the op whose results it yields) and fuses the producers into each
// workgroup's tile.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_PASSES_DISPATCHFUSION_H
#define BERTC_PASSES_DISPATCHFUSION_H

#include "dialects/graph/GraphOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace bertc {

/// The linalg op that every result of `dispatch` comes from, or null.
mlir::linalg::LinalgOp dispatchRoot(graph::DispatchOp dispatch);

/// The dispatches that use results of `producer`, in order, when every
/// use is an operand of a dispatch; else none.
llvm::SmallVector<graph::DispatchOp> consumers(graph::DispatchOp producer);

/// Copies the body of `producer` into `consumer`, replacing the operands it
/// fed, and erases `producer` once nothing else uses it. Every input of
/// `producer` must be available before `consumer`.
void mergeIntoConsumer(graph::DispatchOp producer, graph::DispatchOp consumer);

/// The buffers `consumer` would bind (inputs and results) with `producer`
/// merged into it.
unsigned bindingsAfterMerge(graph::DispatchOp producer, graph::DispatchOp consumer);

/// Repeats, until nothing changes: a dispatch whose every consumer accepts
/// it (`canMerge(producer, consumer)`, and binds no more than `maxBindings`
/// buffers after the merge unless that is 0) is merged into each of them,
/// when it has one consumer or `mayDuplicate(producer)` allows computing it
/// in several. Producers are visited from the last, so that a chain gathers
/// into its final consumer.
void mergeIntoConsumers(mlir::Block &body,
                        llvm::function_ref<bool(graph::DispatchOp, graph::DispatchOp)> canMerge,
                        llvm::function_ref<bool(graph::DispatchOp)> mayDuplicate,
                        unsigned maxBindings);

/// For the uses of `value` (a result of a linalg op inside a dispatch
/// body) the number of leading loops of `op` that index it; -1 unless `op`
/// reads it through a map `(d0, ..., dn) -> (d0, ..., dk-1)` over parallel
/// loops (a row-wise value: one per row of `op`'s leading loops).
int rowPrefixOf(mlir::linalg::LinalgOp op, mlir::Value value);

} // namespace bertc

#endif // BERTC_PASSES_DISPATCHFUSION_H
