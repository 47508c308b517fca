//===- GraphOps.h - Ops of the graph dialect --------------------*- C++ -*-===//
#ifndef BERTC_DIALECTS_GRAPH_GRAPHOPS_H
#define BERTC_DIALECTS_GRAPH_GRAPHOPS_H

#include "dialects/graph/GraphDialect.h"
#include "runtime/Contract.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace bertc::graph::OpTrait {
/// Ops lowered inside their own kernel by the back ends
/// (Graph_LoweredInKernel in GraphBase.td).
template <typename ConcreteType>
class LoweredInKernel : public mlir::OpTrait::TraitBase<ConcreteType, LoweredInKernel> {};
} // namespace bertc::graph::OpTrait

#include "dialects/graph/GraphEnums.h.inc"
#include "dialects/graph/GraphInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/graph/GraphOps.h.inc"

namespace bertc::graph {

/// Spells a tensor type the way the model language writes it: `f32[8, 128]`.
std::string formatType(mlir::Type type);

} // namespace bertc::graph

#endif // BERTC_DIALECTS_GRAPH_GRAPHOPS_H
