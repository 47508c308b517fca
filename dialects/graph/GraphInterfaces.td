//===- GraphInterfaces.td - Interfaces of graph ops --------*- tablegen -*-===//
#ifndef BERTC_GRAPH_INTERFACES
#define BERTC_GRAPH_INTERFACES

include "mlir/IR/OpBase.td"

def Graph_DifferentiableOpInterface : OpInterface<"DifferentiableOp"> {
  let cppNamespace = "::bertc::graph";
  let description = [{
    An op that can build its vector - Jacobian
    product: given the gradient of the loss with respect to each of its results,
    the graph ops that compute the gradient with respect to each of its operands.Reverse -
        mode differentiation(`bertc - differentiate`)
            asks each op through this interface and never switches over op kinds.
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

def Graph_KernelKindOpInterface : OpInterface<"KernelKindOp"> {
  let cppNamespace = "::bertc::graph";
  let description = [{
    An op whose kernels,
    and those of its gradient,
    belong to a named kind of work
            that `bertc bench` reports apart(`contract::KernelKind` in runtime / Contract.h)
                .Ops without this interface are elementwise(
                    which also counts reductions and data movement)
                .
    `bertc -
        tag - kernel -
        kinds` records the kind in each such op's location, from where it reaches every op built
            from it: the gradient's ops, the linalg ops of the lowering,
    the dispatch regions.
  }];
  let methods = [
    InterfaceMethod<"The kind of work of this op's kernels.", "::bertc::contract::KernelKind",
                    "getKernelKind">,
  ];
}

#endif // BERTC_GRAPH_INTERFACES
