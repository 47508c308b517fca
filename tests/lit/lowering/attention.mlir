// Attention (passes/lowering/Attention.cpp) is not lowered with the graph:
// it stays for the back end, which lowers it in its own kernel once the
// strategy has chosen its blocks (tests/lit/common/lower-kernel-ops.mlir).
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @attention
// CHECK-NEXT: graph.attention %arg0, %arg0, %arg1, %arg2 scale 2.500000e-01
// CHECK-NOT: scf.forall
func.func @attention(%q: tensor<2x3x160x8xf32>, %v: tensor<2x3x160x4xf32>,
                     %bias: tensor<2x1x1x160xf32>) -> tensor<2x3x160x4xf32> {
  %o = graph.attention %q, %q, %v, %bias scale 2.500000e-01 rate 0.0 : tensor<2x3x160x8xf32>, tensor<2x3x160x8xf32>, tensor<2x3x160x4xf32>, tensor<2x1x1x160xf32> -> tensor<2x3x160x4xf32>
  return %o : tensor<2x3x160x4xf32>
}
