//===- GraphInterfaces.td - Interfaces of graph ops --------*- tablegen -*-===//
#ifndef BERTC_GRAPH_INTERFACES
#define BERTC_GRAPH_INTERFACES

include "mlir/IR/OpBase.td"

def Graph_DifferentiableOpInterface : OpInterface<"DifferentiableOp"> {
  let cppNamespace = "::bertc::graph";
  let description = [{
    An op that can build its vector-Jacobian product: given the gradient of
    the loss with respect to each of its results, the graph ops that compute
    the gradient with respect to each of its operands. Reverse-mode
    differentiation (`bertc-differentiate`) asks each op through this
    interface and never switches over op kinds.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the gradients of the operands at the builder's insertion point.
        `resultGrads` has one value per result (null: that result does not
        reach the loss). `operandGrads` receives one value per operand, with
        the operand's type, or null for operands that have no gradient (such
        as integer ids).
      }], "::llvm::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::ValueRange":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

#endif // BERTC_GRAPH_INTERFACES
