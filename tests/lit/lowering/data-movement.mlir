// Data movement (passes/lowering/DataMovement.cpp) to linalg on tensors.
// RUN: bertc-opt %s --bertc-convert-graph-to-linalg --split-input-file | FileCheck %s

// Embedding rows and gathers read with tensor.extract at clamped indices.
// CHECK-LABEL: func.func @embedding
func.func @embedding(%t: tensor<10x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  // CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3xi32>)
  // CHECK: arith.index_cast
  // CHECK: arith.maxsi
  // CHECK: arith.minsi
  // CHECK: linalg.index 2
  // CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<10x4xf32>
  %0 = graph.embedding %t[%ids] : tensor<10x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Reshapes are views; slices copy; dropout without a key (inference) is the
// identity.
// CHECK-LABEL: func.func @layout
func.func @layout(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: tensor.collapse_shape
  // CHECK: tensor.expand_shape
  %0 = graph.reshape %x to [6, 4] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x3x4xf32> to tensor<2x4xf32>
  // CHECK: linalg.copy
  %1 = graph.select %x axis 1 [0] : tensor<2x3x4xf32> -> tensor<2x4xf32>
  // CHECK-NOT: graph.dropout
  %2 = graph.dropout %x rate 1.000000e-01 : tensor<2x3x4xf32>
  return %0, %1, %2 : tensor<6x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>
}

// -----

// An embedding gradient stays, a kernel of its own that the back end
// lowers with its strategy's blocks (tests/lit/common/lower-kernel-ops.mlir).
// CHECK-LABEL: func.func @embedding_grad
// CHECK: %[[R:.*]] = graph.embedding_grad %arg0, %arg1 rows 10
// CHECK: return %[[R]]
func.func @embedding_grad(%ids: tensor<4xi32>, %g: tensor<4x16xf32>) -> tensor<10x16xf32> {
  %0 = graph.embedding_grad %ids, %g rows 10 : tensor<4xi32>, tensor<4x16xf32> -> tensor<10x16xf32>
  return %0 : tensor<10x16xf32>
}

// -----

// gather reads the indexed rows (clamped); its gradient sums the incoming
// gradient into the rows it came from, a reduction over the indices.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x2xi32>) outs(%{{.*}} : tensor<2x2x4xf32>)
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<2x3x4xf32>)
// CHECK: arith.cmpi eq
// CHECK: arith.select
func.func @gather(%x: tensor<2x3x4xf32>, %pos: tensor<2x2xi32>, %g: tensor<2x2x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x3x4xf32>) {
  %ga = graph.gather %x[%pos] axis 1 : tensor<2x3x4xf32>, tensor<2x2xi32> -> tensor<2x2x4xf32>
  %gg = graph.gather_grad %pos, %g axis 1 of 3 : tensor<2x2xi32>, tensor<2x2x4xf32> -> tensor<2x3x4xf32>
  return %ga, %gg : tensor<2x2x4xf32>, tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<2x4x3xf32>) permutation = [0, 2, 1]
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<2x4x3xf32> {
  %t = graph.transpose %x perm [0, 2, 1] : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  return %t : tensor<2x4x3xf32>
}

// -----

// slice copies its part; its gradient places the incoming gradient there,
// zeros elsewhere.
// CHECK-LABEL: func.func @slice
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 0] [2, 2, 4] [1, 1, 1]
// CHECK: linalg.copy
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3x4xf32>)
// CHECK: arith.cmpi sge
// CHECK: tensor.extract
// CHECK: arith.select
func.func @slice(%x: tensor<2x3x4xf32>, %g: tensor<2x2x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x3x4xf32>) {
  %s = graph.slice %x axis 1 [1 : 3] : tensor<2x3x4xf32> -> tensor<2x2x4xf32>
  %d = graph.slice_grad %g axis 1 at 1 of 3 : tensor<2x2x4xf32> -> tensor<2x3x4xf32>
  return %s, %d : tensor<2x2x4xf32>, tensor<2x3x4xf32>
}
