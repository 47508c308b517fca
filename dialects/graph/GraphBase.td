//===- GraphBase.td - The graph dialect's definition -------*- tablegen -*-===//
#ifndef BERTC_GRAPH_BASE
#define BERTC_GRAPH_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Graph_Dialect : Dialect {
  let name = "graph";
  let cppNamespace = "::bertc::graph";
  let summary = "Tensor ops at the level of the bertc model language";
  let description = [{
    The graph dialect holds a model as the front end builds it: a function
    whose body reads parameters and inputs by name (`graph.parameter`,
    `graph.input`), computes with tensor ops of BERT's vocabulary (matmul,
    layer_norm, softmax, gelu, ...), and names its results with
    `graph.output`. Every op checks ranks, shapes and element types in its
    verifier, and infers its result type through `InferTypeOpInterface`, so
    the front end never computes a shape itself.

    Tensors are statically shaped `tensor<...>` of f32, f64 or i32 (ids and
    labels); bf16 tensors appear only after bertc-mixed-precision, as matmul
    operands, their conversions and the bf16 copies of parameters. Axis
    attributes are non-negative.
  }];
  // Attributes stay in the attribute dictionary so that the front end can
  // infer a result type from (operands, attributes) before creating the op.
  let usePropertiesForAttributes = 0;
}

class Graph_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graph_Dialect, mnemonic, traits>;

// An op that stays a graph op through the lowering to linalg and becomes a
// kernel of its own: each back end lowers it inside that kernel once its
// strategy has chosen the op's blocks (bertc-lower-kernel-ops).
def Graph_LoweredInKernel : NativeOpTrait<"LoweredInKernel"> {
  let cppNamespace = "::bertc::graph::OpTrait";
}

def Graph_InitKind : I32EnumAttr<"InitKind", "parameter initializer", [
    I32EnumAttrCase<"normal", 0>,
    I32EnumAttrCase<"zeros", 1>,
    I32EnumAttrCase<"ones", 2>,
  ]> {
  let cppNamespace = "::bertc::graph";
}

def Graph_FloatTensor : TensorOf<[F32, F64]>;
def Graph_IndexTensor : TensorOf<[I32]>;
def Graph_AnyTensor : TensorOf<[F32, F64, I32]>;
// Float tensors or bf16 ones: matmul operands (accumulated in f32), their
// conversions and layout changes, and values assigned to parameter copies.
def Graph_FloatOrBF16Tensor : TensorOf<[F32, F64, BF16]>;

#endif // BERTC_GRAPH_BASE
